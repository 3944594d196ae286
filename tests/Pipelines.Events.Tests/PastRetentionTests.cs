using System.Diagnostics.Metrics;
using Confluent.Kafka;
using CustomerData.Lake;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>Issue 13: what the lake cannot get any more (retention deleted it) is counted, logged and shown in health; the rest flows on.</summary>
public sealed class PastRetentionTests(KafkaFixture kafka)
{
    private static readonly DateTime BaseTime = new(2025, 12, 9, 12, 0, 0, DateTimeKind.Utc);
    private const int Deleted = 5;

    private static Dictionary<string, string?> Settings => new()
    {
        ["Events:MaxBatchRecords"] = "200",
        ["Kafka:kafka:Config:session.timeout.ms"] = "6000",
        ["Kafka:kafka:Config:heartbeat.interval.ms"] = "500",
    };

    [Fact]
    public async Task Offsets_deleted_by_retention_before_the_lake_got_them_are_counted_logged_once_and_degrade_health_and_the_rest_lands_once()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempLake();
        var lake = new LocalFolderLakeStorage(folder.Root);
        var bootstrap = kafka.Cluster.BootstrapServers;
        var topic = $"events-retention-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(bootstrap);
        var sent = await TestEvents.ProduceAsync(producer, topic, 1_000, malformedEvery: 0, BaseTime, cancellationToken: ct);
        await using (await PipelineHost.StartAsync(bootstrap, folder.Root, topic, group, Settings))
        {
            await Lake.WaitForCommittedAsync(bootstrap, topic, group, partitions, TimeSpan.FromSeconds(60));
        }
        // While the pipeline is down, more events come and retention deletes the first few of them in every partition.
        var later = await TestEvents.ProduceAsync(producer, topic, 1_000, malformedEvery: 0, BaseTime, startIndex: 100_000, cancellationToken: ct);
        var positions = await PartitionPosition.ReadAllAsync(lake, ct);
        var logStart = Enumerable.Range(0, partitions).ToDictionary(p => p, p => positions[(topic, p)].NextOffset + Deleted);
        Assert.All(logStart, s => Assert.True(later.Count(e => e.Partition == s.Key) > Deleted, $"partition {s.Key} got too few events"));
        foreach (var (partition, start) in logStart) kafka.Cluster.DeleteRecords(topic, partition, start);
        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EventsTelemetry.Name && instrument.Name == "events.offsets.past_retention") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted, value));
        listener.Start();
        var logs = new CapturingLoggerProvider();

        await using (var second = await PipelineHost.StartAsync(bootstrap, folder.Root, topic, group, Settings, s => s.AddSingleton<ILoggerProvider>(logs)))
        {
            await Lake.WaitForCommittedAsync(bootstrap, topic, group, partitions, TimeSpan.FromSeconds(60));
            Assert.Contains("deleted by retention", second.State.DegradedReason);
            var health = await second.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "events-ingestion", ct);
            Assert.Equal(HealthStatus.Degraded, health.Status);
            Assert.False(second.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        }

        Assert.Equal(Deleted * partitions, Interlocked.Read(ref counted));
        var lines = logs.Lines.Where(l => l.Category == typeof(EventsIngestionService).FullName && l.Message.Contains("deleted by retention", StringComparison.Ordinal)).ToList();
        Assert.Equal(partitions, lines.Count); // one per partition
        Assert.All(lines, l => Assert.Equal(LogLevel.Error, l.Level));
        // Every event the log still held is in the lake once; the deleted ones are not.
        var expected = sent.Concat(later.Where(e => e.Offset >= logStart[e.Partition])).ToList();
        await Lake.AssertExactlyOnceAsync(lake, expected);
        var positionsAfter = await PartitionPosition.ReadAllAsync(lake, ct);
        Assert.All(Enumerable.Range(0, partitions), p => Assert.Equal(0, positionsAfter[(topic, p)].Epoch));
    }

    [Fact]
    public async Task A_rebalance_handler_that_fails_on_an_unreadable_lake_keeps_the_host_running_and_nothing_is_lost_once_the_lake_answers()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempLake();
        var local = new LocalFolderLakeStorage(folder.Root);
        var bootstrap = kafka.Cluster.BootstrapServers;
        var topic = $"events-handlerfails-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(bootstrap);
        var sent = await TestEvents.ProduceAsync(producer, topic, 800, malformedEvery: 20, BaseTime, cancellationToken: ct);
        var failing = new FailingReadsLakeStorage(local, key => key.StartsWith(PartitionPosition.Folder, StringComparison.Ordinal));
        await using var host = await PipelineHost.StartAsync(bootstrap, folder.Root, topic, group,
            new Dictionary<string, string?>(Settings) { ["Events:RetryInitialDelay"] = "00:00:00.200", ["Events:RetryMaxDelay"] = "00:00:01" },
            s => s.AddSingleton<ILakeStorage>(failing));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (host.State.DegradedReason is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the failing assignment never degraded health");
            await Task.Delay(50, ct);
        }
        Assert.Equal(0, host.State.CommittedBatches);

        failing.Failing = false;
        await Lake.WaitForCommittedAsync(bootstrap, topic, group, partitions, TimeSpan.FromSeconds(60));
        Assert.False(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        Assert.Null(host.State.FatalError);
        await Lake.AssertExactlyOnceAsync(local, sent);
    }
}
