using CustomerData.Contracts;
using CustomerData.Lake;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>
/// Review point "zombie writes after eviction": a member whose lake writes hang must neither block its consume
/// loop until the group evicts it nor, once its partitions went to another member, leave files the new owner's
/// replay does not know about (cut at other first offsets: every such event would be stored twice).
/// </summary>
public sealed class ZombieWriteTests(KafkaFixture kafka)
{
    [Fact]
    public async Task WritesStuckWhileThePartitionsMoveToAnotherMemberAreNeitherCommittedNorLeftInTheLake()
    {
        var ct = TestContext.Current.CancellationToken;
        using var lakeFolder = new TempLake();
        var topic = $"events-zombie-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        Assert.True(partitions >= 2, $"the mock topic has {partitions} partition(s); a rebalance needs two");
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);

        // The stream crosses midnight: each partition's first batch holds both days. Writes of the second day
        // hang (the gate honours cancellation, as an S3 upload or a file write does); the first day's land.
        var baseTime = new DateTime(2025, 12, 9, 23, 59, 50, DateTimeKind.Utc);
        var secondDay = LakeLayout.EventsPartition(new DateOnly(2025, 12, 10));
        var gated = new GatedLakeStorage(new LocalFolderLakeStorage(lakeFolder.Root), key => key.StartsWith(secondDay, StringComparison.Ordinal));
        var kafkaSettings = new Dictionary<string, string?>
        {
            ["Kafka:kafka:Config:session.timeout.ms"] = "6000",
            ["Kafka:kafka:Config:heartbeat.interval.ms"] = "500",
            ["Kafka:kafka:Config:max.poll.interval.ms"] = "10000", // derived write wait: 2 s
            ["Events:RetryInitialDelay"] = "00:00:00.200",
            ["Events:RetryMaxDelay"] = "00:00:01",
        };
        // The two members cut batches differently (as a changed setting or a clock-cut batch would): the stuck
        // member's files have first offsets the new owner's replay never writes, so none of them is overwritten.
        var stuck = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lakeFolder.Root, topic, group,
            new Dictionary<string, string?>(kafkaSettings) { ["Events:MaxBatchRecords"] = "100" },
            services => services.AddSingleton<ILakeStorage>(gated));
        var sent = await TestEvents.ProduceAsync(producer, topic, 1_200, malformedEvery: 20, baseTime, cancellationToken: ct);
        await WaitAsync(() => gated.Blocked >= 3, TimeSpan.FromSeconds(60), "the first member's second-day writes hang");

        // A second member joins: the partitions move while the first member's writes still hang.
        await using var healthy = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lakeFolder.Root, topic, group,
            new Dictionary<string, string?>(kafkaSettings) { ["Events:MaxBatchRecords"] = "150" });
        await WaitAsync(() => healthy.State.CommittedBatches > 0, TimeSpan.FromSeconds(60), "the second member commits batches");

        // The hung writes would now complete: whatever of them was not abandoned lands in the lake.
        gated.Open();
        await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(60));
        await stuck.DisposeAsync();
        await Lake.AssertExactlyOnceAsync(new LocalFolderLakeStorage(lakeFolder.Root), sent);
    }

    [Theory]
    [InlineData(null, null, 60)]       // librdkafka's default max.poll.interval.ms (300 s): a fifth
    [InlineData(null, 10_000, 2)]
    [InlineData(4.0, 10_000, 4)]       // configured, under half
    [InlineData(30.0, 10_000, 5)]      // configured too long: capped at half
    public void TheWriteWaitIsDerivedFromMaxPollIntervalAndStaysWellUnderIt(double? configuredSeconds, int? maxPollIntervalMs, double expectedSeconds)
    {
        var options = new EventsOptions { WriteWaitTimeout = configuredSeconds is { } c ? TimeSpan.FromSeconds(c) : null };

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), options.EffectiveWriteWait(maxPollIntervalMs));
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting until {what}.");
            await Task.Delay(100);
        }
    }
}
