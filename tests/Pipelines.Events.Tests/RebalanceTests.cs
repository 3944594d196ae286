namespace CustomerData.Pipelines.Events.Tests;

public sealed class RebalanceTests(KafkaFixture kafka, S3rverFixture s3)
{
    [Theory]
    [InlineData("local")]
    [InlineData("s3")]
    public async Task TwoConsumersWithARebalanceInTheMiddleNeitherLoseNorDuplicate(string lakeKind)
    {
        var ct = TestContext.Current.CancellationToken;
        using var lake = new TestLake(lakeKind, s3);
        var topic = $"events-rebalance-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        Assert.True(partitions >= 2, $"the mock topic has {partitions} partition(s); a rebalance needs two");
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        var settings = new Dictionary<string, string?>(lake.Settings())
        {
            ["Events:MaxBatchRecords"] = "250",
            ["Kafka:kafka:Config:session.timeout.ms"] = "6000",
            ["Kafka:kafka:Config:heartbeat.interval.ms"] = "500",
        };
        var baseTime = new DateTime(2025, 12, 9, 12, 0, 0, DateTimeKind.Utc);
        var sent = new List<SentEvent>();

        var first = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lake.Options.Root, topic, group, settings);
        sent.AddRange(await TestEvents.ProduceAsync(producer, topic, 4_000, malformedEvery: 25, baseTime, cancellationToken: ct));
        await WaitAsync(() => first.State.CommittedBatches > 2, "the first consumer commits batches");

        // A second member joins: the group rebalances while events keep coming.
        await using var second = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lake.Options.Root, topic, group, settings);
        for (var i = 1; i <= 4; i++)
        {
            sent.AddRange(await TestEvents.ProduceAsync(producer, topic, 2_000, malformedEvery: 25, baseTime, startIndex: i * 10_000, cancellationToken: ct));
            await Task.Delay(500, ct);
        }
        // The second member commits only events it consumes itself: if the rebalance outlasted the rounds above
        // (a slow machine) and the first member had drained the topic, it would have nothing left. Events keep
        // coming, bounded, until it commits.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        for (var i = 5; second.State.CommittedBatches == 0; i++)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting until the second consumer got partitions and commits batches.");
            sent.AddRange(await TestEvents.ProduceAsync(producer, topic, 100, malformedEvery: 25, baseTime, startIndex: i * 10_000, cancellationToken: ct));
            await Task.Delay(250, ct);
        }

        // The first member leaves (clean stop): another rebalance hands everything to the second.
        await first.DisposeAsync();
        sent.AddRange(await TestEvents.ProduceAsync(producer, topic, 3_000, malformedEvery: 25, baseTime, startIndex: 9_000_000, cancellationToken: ct));
        await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(60));

        await Lake.AssertExactlyOnceAsync(lake.Storage, sent);
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting until {what}.");
            await Task.Delay(100);
        }
    }
}
