using Confluent.Kafka;
using CustomerData.Lake;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>
/// Review point "a new Events:GroupId over an existing lake": the new group would replay the topic from its start,
/// and every event already in a compacted file would come back a second time.
/// </summary>
public sealed class LakeIdentityTests(KafkaFixture kafka)
{
    private static readonly DateOnly Day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-3);

    [Fact]
    public async Task ANewGroupOverAnExistingLakeRefusesToRunCommitsNothingAndLeavesTheLakeAsItWas()
    {
        var ct = TestContext.Current.CancellationToken;
        using var lakeFolder = new TempLake();
        var (topic, partitions, sent) = await IngestAndCompactAsync(lakeFolder.Root, ct);
        var lake = new LocalFolderLakeStorage(lakeFolder.Root);
        var filesBefore = (await lake.ListAsync("", ct)).Select(o => o.Key).ToList();
        var newGroup = "g-second-" + topic;

        await using var second = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lakeFolder.Root, topic, newGroup);
        var stopping = second.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        await WaitAsync(() => stopping.IsCancellationRequested, "the host with the new group stops itself");

        Assert.Contains(FirstGroup(topic), second.State.FatalError);
        var health = await second.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "events-ingestion", ct);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        using (var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = kafka.Cluster.BootstrapServers, GroupId = newGroup }).Build())
        {
            var committed = offsets.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList(), TimeSpan.FromSeconds(5));
            Assert.All(committed, c => Assert.True(c.Offset.Value < 0, $"the new group committed {c.TopicPartition}@{c.Offset}"));
        }
        Assert.Equal(filesBefore, (await lake.ListAsync("", ct)).Select(o => o.Key));
        Assert.Equal(FirstGroup(topic), LakeIdentity.FromJson((await lake.ReadAsync(LakeIdentity.Key, ct))!).GroupId);
        await AssertReadableExactlyOnceAsync(lake, sent);
    }

    [Fact]
    public async Task AdoptLakeGoesOnWhereTheOldGroupStoppedWithoutStoringAnEventTwice()
    {
        var ct = TestContext.Current.CancellationToken;
        using var lakeFolder = new TempLake();
        var (topic, partitions, sent) = await IngestAndCompactAsync(lakeFolder.Root, ct);
        var newGroup = "g-adopting-" + topic;

        await using (var adopting = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lakeFolder.Root, topic, newGroup,
            // Batches cut differently from the first group's: a replay would not just rewrite the compacted-away names.
            new Dictionary<string, string?> { ["Events:AdoptLake"] = "true", ["Events:MaxBatchRecords"] = "150" }))
        {
            using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
            sent.AddRange(await TestEvents.ProduceAsync(producer, topic, 500, malformedEvery: 0, Day.ToDateTime(new TimeOnly(12, 0), DateTimeKind.Utc), startIndex: 50_000, cancellationToken: ct));
            await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, newGroup, partitions, TimeSpan.FromSeconds(60));
            Assert.Null(adopting.State.FatalError);
        }

        var lake = new LocalFolderLakeStorage(lakeFolder.Root);
        var identity = LakeIdentity.FromJson((await lake.ReadAsync(LakeIdentity.Key, ct))!);
        Assert.Equal(newGroup, identity.GroupId);
        Assert.Equal(FirstGroup(topic), identity.AdoptedFrom);
        await AssertReadableExactlyOnceAsync(lake, sent);
    }

    private static string FirstGroup(string topic) => "g-first-" + topic;

    /// <summary>A first group ingests 1,000 events of a closed day and the day is compacted (events in a compacted file).</summary>
    private async Task<(string Topic, int Partitions, List<SentEvent> Sent)> IngestAndCompactAsync(string lakeRoot, CancellationToken ct)
    {
        var topic = $"events-identity-{Guid.NewGuid():N}";
        var group = FirstGroup(topic);
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        List<SentEvent> sent;
        await using (var first = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lakeRoot, topic, group,
            new Dictionary<string, string?> { ["Events:MaxBatchRecords"] = "100" }))
        {
            sent = await TestEvents.ProduceAsync(producer, topic, 1_000, malformedEvery: 0, Day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), cancellationToken: ct);
            await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(60));
        }
        var lake = new LocalFolderLakeStorage(lakeRoot);
        var compactor = new EventsCompactor(lake, new EventsOptions { Topic = topic, GroupId = group }, TimeProvider.System, NullLogger<EventsCompactor>.Instance);
        using var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = kafka.Cluster.BootstrapServers, GroupId = group }).Build();
        var results = await compactor.RunPassAsync(b => EventsCompactionService.CommittedOffsets(offsets, b), ct);
        Assert.Equal(1_000, Assert.Single(results).Rows);
        return (topic, partitions, sent);
    }

    /// <summary>What a reader of the lake sees (following the manifests): every sent event exactly once.</summary>
    private static async Task AssertReadableExactlyOnceAsync(ILakeStorage lake, IReadOnlyList<SentEvent> sent)
    {
        var ids = new List<string>();
        foreach (var key in await new EventsLakeReader(lake).ListReadableKeysAsync(null, null))
        {
            ids.AddRange((await EventParquet.ReadEventsAsync((await lake.ReadAsync(key))!)).Select(e => e.EventId));
        }
        var duplicates = ids.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        Assert.True(duplicates.Count == 0, $"{ids.Count - ids.Distinct().Count()} event(s) stored twice, e.g. {string.Join(", ", duplicates)}");
        Assert.Equal(sent.Select(s => s.EventId).Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting until {what}.");
            await Task.Delay(50);
        }
    }
}
