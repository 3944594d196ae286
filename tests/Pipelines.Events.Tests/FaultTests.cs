using System.Diagnostics;
using Confluent.Kafka;
using CustomerData.Lake;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CustomerData.Pipelines.Events.Tests;

public sealed class FaultTests(KafkaFixture kafka)
{
    [Fact]
    public async Task AnUnwritableLakePausesWithoutCommittingDegradesHealthAndRecoversWithoutLoss()
    {
        var ct = TestContext.Current.CancellationToken;
        using var lakeFolder = new TempLake();
        // A file where the events folder must go: every events write fails until it is removed.
        var blocker = Path.Combine(lakeFolder.Root, "events");
        await File.WriteAllTextAsync(blocker, "not a folder", ct);
        var topic = $"events-fault-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        var sent = await TestEvents.ProduceAsync(producer, topic, 600, malformedEvery: 0, new DateTime(2025, 12, 9, 8, 0, 0, DateTimeKind.Utc), cancellationToken: ct);

        await using var host = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lakeFolder.Root, topic, group,
            new Dictionary<string, string?> { ["Events:RetryInitialDelay"] = "00:00:00.200", ["Events:RetryMaxDelay"] = "00:00:01" });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var deadline = Stopwatch.StartNew();
        while (host.State.DegradedReason is null)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "the failing write never degraded the pipeline");
            await Task.Delay(100, ct);
        }
        await Task.Delay(2_000, ct); // several retries
        var report = await health.CheckHealthAsync(r => r.Name == "events-ingestion", ct);
        Assert.Equal(HealthStatus.Degraded, report.Status);
        using (var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = kafka.Cluster.BootstrapServers, GroupId = group }).Build())
        {
            var committed = offsets.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList(), TimeSpan.FromSeconds(5));
            Assert.All(committed, c => Assert.True(c.Offset.Value < 0, $"partition {c.Partition.Value} committed {c.Offset} while the lake failed"));
        }
        Assert.Equal(0, host.State.CommittedBatches);

        // The lake comes back: the waiting batches are written, committed, and consumption resumes.
        File.Delete(blocker);
        await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(60));
        // The commit lands just before the service marks itself recovered: poll, bounded.
        var recovery = Stopwatch.StartNew();
        while (host.State.DegradedReason is not null && recovery.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(50, ct);
        Assert.Null(host.State.DegradedReason);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(r => r.Name == "events-ingestion", ct)).Status);
        await Lake.AssertExactlyOnceAsync(new LocalFolderLakeStorage(lakeFolder.Root), sent);
    }
}
