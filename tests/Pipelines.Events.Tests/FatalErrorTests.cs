using Confluent.Kafka;
using CustomerData.TestServers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>A fatal consumer error (librdkafka cannot go on, e.g. fenced by a newer instance) stops the pipeline cleanly.</summary>
public sealed class FatalErrorTests
{
    [Fact]
    public async Task A_fatal_consume_error_stops_the_host_unhealthy_with_one_log_line()
    {
        var ct = TestContext.Current.CancellationToken;
        // A cluster of its own: the errors it is made to return go to every client of it.
        using var cluster = KafkaMockCluster.Start();
        using var folder = new TempLake();
        var topic = $"events-fatal-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(cluster.BootstrapServers);
        await TestEvents.ProduceAsync(producer, topic, 300, malformedEvery: 0, new DateTime(2025, 12, 9, 12, 0, 0, DateTimeKind.Utc), cancellationToken: ct);
        var logs = new CapturingLoggerProvider();
        await using var host = await PipelineHost.StartAsync(cluster.BootstrapServers, folder.Root, topic, group,
            new Dictionary<string, string?> { ["Kafka:kafka:Config:heartbeat.interval.ms"] = "300" },
            s => s.AddSingleton<ILoggerProvider>(logs));
        await Lake.WaitForCommittedAsync(cluster.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(60));
        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        Assert.False(stopping.IsCancellationRequested);

        // The group coordinator answers the member's heartbeats: fenced by a newer instance (fatal for a consumer).
        cluster.PushRequestErrors(KafkaMockCluster.ApiKeys.Heartbeat, Enumerable.Repeat(ErrorCode.FencedInstanceId, 20).ToArray());

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!stopping.IsCancellationRequested)
        {
            Assert.True(DateTime.UtcNow < deadline, "the host did not stop after the fatal error");
            await Task.Delay(50, ct);
        }
        // Program.cs returns exit code 1 whenever FatalError is set.
        Assert.Contains("fatal Kafka error", host.State.FatalError);
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "events-ingestion", ct);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        // The pipeline's own warnings and errors (the health check service logs every unhealthy check besides).
        var mentions = logs.Lines.Where(l => l.Level >= LogLevel.Warning && !l.Category.Contains("HealthChecks", StringComparison.Ordinal)).ToList();
        Assert.True(mentions.Count == 1, string.Join("\n", mentions));
        Assert.Equal(LogLevel.Critical, logs.Lines.Single(l => l.Message.Contains("Fatal Kafka error", StringComparison.Ordinal)).Level);
    }
}
