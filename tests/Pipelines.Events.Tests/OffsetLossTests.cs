using Confluent.Kafka;
using CustomerData.Lake;
using CustomerData.TestServers;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>
/// Issue 13: the lake records how far it holds each partition, so whatever happens to the group's offsets (deleted,
/// reset to the start or the end) or to the topic (recreated, another cluster), every event ends up in the lake once.
/// </summary>
public sealed class OffsetLossTests(KafkaFixture kafka)
{
    private static readonly DateTime BaseTime = new(2025, 12, 9, 12, 0, 0, DateTimeKind.Utc);

    private static Dictionary<string, string?> Settings(string root) => new()
    {
        ["Lake:Root"] = root,
        ["Events:MaxBatchRecords"] = "300",
        // The resetting member and the first run leave the group; a short session keeps the next join quick.
        ["Kafka:kafka:Config:session.timeout.ms"] = "6000",
        ["Kafka:kafka:Config:heartbeat.interval.ms"] = "500",
    };

    public enum OffsetChange { Deleted, ResetToEarliest, ResetToLatest }

    [Theory]
    [InlineData(OffsetChange.Deleted)]
    [InlineData(OffsetChange.ResetToEarliest)]
    [InlineData(OffsetChange.ResetToLatest)]
    public async Task WhateverTheGroupOffsetsSayEveryEventIsInTheLakeOnce(OffsetChange change)
    {
        var ct = TestContext.Current.CancellationToken;
        using var lakeFolder = new TempLake();
        var lake = new LocalFolderLakeStorage(lakeFolder.Root);
        var bootstrap = kafka.Cluster.BootstrapServers;
        var topic = $"events-offsets-{change}-{Guid.NewGuid():N}".ToLowerInvariant();
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(bootstrap);
        var sent = await TestEvents.ProduceAsync(producer, topic, 3_000, malformedEvery: 20, BaseTime, cancellationToken: ct);
        await using (var first = await PipelineHost.StartAsync(bootstrap, lakeFolder.Root, topic, group, Settings(lakeFolder.Root)))
        {
            await Lake.WaitForCommittedAsync(bootstrap, topic, group, partitions, TimeSpan.FromSeconds(60));
        }
        var positions = await PartitionPosition.ReadAllAsync(lake, ct);
        Assert.Equal(partitions, positions.Count(p => p.Key.Topic == topic));

        // While the pipeline is down, more events come and the group's offsets change.
        sent.AddRange(await TestEvents.ProduceAsync(producer, topic, 2_000, malformedEvery: 20, BaseTime, startIndex: 100_000, cancellationToken: ct));
        var tps = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList();
        var secondGroup = group;
        if (change == OffsetChange.Deleted)
        {
            // The mock cluster has no DeleteGroups/OffsetDelete: a group that has never committed, made the lake's owner
            // (as if its offsets had expired), is what the pipeline sees after the group's offsets were deleted.
            secondGroup = group + "-offsets-gone";
            await lake.PublishAsync(LakeIdentity.Key, new LakeIdentity(secondGroup, topic, DateTime.UtcNow).ToJson(), ct);
        }
        else
        {
            CommitAsMember(bootstrap, group, topic, tps, offsets => change == OffsetChange.ResetToEarliest
                ? tps.Select(tp => new TopicPartitionOffset(tp, 0)).ToList()
                : tps.Select(tp => new TopicPartitionOffset(tp, offsets.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5)).High)).ToList());
        }

        await using (var second = await PipelineHost.StartAsync(bootstrap, lakeFolder.Root, topic, secondGroup, Settings(lakeFolder.Root)))
        {
            // The lake's positions must reach the log end (the group's offsets may have been there all along).
            await WaitForPositionsAsync(lake, topic, tps, t => QueryHigh(bootstrap, t), ct);
            await Lake.WaitForCommittedAsync(bootstrap, topic, secondGroup, partitions, TimeSpan.FromSeconds(60));
        }
        await Lake.AssertExactlyOnceAsync(lake, sent);
    }

    /// <summary>
    /// The issue's local-mode restart: Kafka is in memory, so after a restart the topic is a new one whose offsets
    /// start at 0 again and the group has none. A second mock cluster plays the new incarnation of the same topic.
    /// </summary>
    [Fact]
    public async Task ATopicRecreatedOnAnotherClusterStartsANewEpochAndKeepsEveryEventOfTheOldOne()
    {
        var ct = TestContext.Current.CancellationToken;
        using var lakeFolder = new TempLake();
        var lake = new LocalFolderLakeStorage(lakeFolder.Root);
        var topic = $"events-recreated-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var oldIds = new List<string>();
        var newIds = new List<string>();

        using (var old = KafkaMockCluster.Start())
        {
            var partitions = old.EnsureTopic(topic);
            using var producer = TestEvents.Producer(old.BootstrapServers);
            oldIds.AddRange((await TestEvents.ProduceAsync(producer, topic, 3_000, malformedEvery: 0, BaseTime, cancellationToken: ct)).Select(s => s.EventId));
            await using var first = await PipelineHost.StartAsync(old.BootstrapServers, lakeFolder.Root, topic, group, Settings(lakeFolder.Root));
            await Lake.WaitForCommittedAsync(old.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(60));
        }

        using var fresh = KafkaMockCluster.Start();
        var freshPartitions = fresh.EnsureTopic(topic);
        using (var producer = TestEvents.Producer(fresh.BootstrapServers))
        {
            // Fewer events than before, then (after the switch) as many again: the new offsets pass the old positions.
            newIds.AddRange((await TestEvents.ProduceAsync(producer, topic, 1_000, malformedEvery: 0, BaseTime, startIndex: 200_000, cancellationToken: ct)).Select(s => s.EventId));
            await using var second = await PipelineHost.StartAsync(fresh.BootstrapServers, lakeFolder.Root, topic, group, Settings(lakeFolder.Root));
            await Lake.WaitForCommittedAsync(fresh.BootstrapServers, topic, group, freshPartitions, TimeSpan.FromSeconds(60));
            newIds.AddRange((await TestEvents.ProduceAsync(producer, topic, 3_000, malformedEvery: 0, BaseTime, startIndex: 300_000, cancellationToken: ct)).Select(s => s.EventId));
            await Lake.WaitForCommittedAsync(fresh.BootstrapServers, topic, group, freshPartitions, TimeSpan.FromSeconds(60));
        }

        var events = await Lake.ReadAllEventsAsync(lake);
        var counts = events.GroupBy(e => e.Event.EventId).ToDictionary(g => g.Key, g => g.Count());
        Assert.Empty(counts.Where(kv => kv.Value > 1).Select(kv => kv.Key).Take(5));
        Assert.Empty(oldIds.Concat(newIds).Where(id => !counts.ContainsKey(id)).Take(5));
        Assert.Equal(oldIds.Count + newIds.Count, counts.Count);
        var positions = await PartitionPosition.ReadAllAsync(lake, ct);
        Assert.All(positions.Values.Where(p => p.Topic == topic), p => Assert.Equal(1, p.Epoch));
        Assert.Contains(events, e => EventFileNames.TryParseBatch(EventFileNames.FileName(e.Key), out var b) && b.Epoch == 1);
    }

    /// <summary>Commits as a member of the group (the mock refuses a standalone commit for a group that had members), as a reset tool would.</summary>
    private static void CommitAsMember(string bootstrap, string group, string topic, List<TopicPartition> tps, Func<IConsumer<Ignore, Ignore>, List<TopicPartitionOffset>> offsets)
    {
        using var member = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = group, EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Latest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range, SessionTimeoutMs = 6000, HeartbeatIntervalMs = 500,
        }).Build();
        member.Subscribe(topic);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (member.Assignment.Count < tps.Count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the resetting member got no assignment");
            member.Consume(TimeSpan.FromMilliseconds(100));
        }
        var target = offsets(member);
        member.Commit(target);
        var committed = member.Committed(tps, TimeSpan.FromSeconds(5));
        Assert.Equal(target.Select(t => t.Offset.Value), committed.OrderBy(c => c.Partition.Value).Select(c => c.Offset.Value));
        member.Close();
    }

    private static long QueryHigh(string bootstrap, TopicPartition tp)
    {
        using var c = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "watermarks" }).Build();
        return c.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5)).High.Value;
    }

    private static async Task WaitForPositionsAsync(ILakeStorage lake, string topic, List<TopicPartition> tps, Func<TopicPartition, long> high, CancellationToken ct)
    {
        var ends = tps.ToDictionary(tp => tp.Partition.Value, high);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var positions = await PartitionPosition.ReadAllAsync(lake, ct);
            var behind = ends.Where(e => !positions.TryGetValue((topic, e.Key), out var p) || p.NextOffset < e.Value).ToList();
            if (behind.Count == 0) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The lake's positions did not reach the log end: {string.Join(", ", behind.Select(b => $"{b.Key}<{b.Value}"))}");
            await Task.Delay(200, ct);
        }
    }
}
