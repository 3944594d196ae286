using CustomerData.Lake;
using System.Collections.Concurrent;
using Confluent.Kafka;
using CustomerData.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using Parquet;

namespace CustomerData.Pipelines.Events.Tests;

public sealed class CompactionTests(KafkaFixture kafka, S3rverFixture s3)
{
    // A closed day inside the compactor's look-back window.
    private static readonly DateOnly Day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-3);

    [Theory]
    [InlineData("local")]
    [InlineData("s3")]
    public async Task CompactionKeepsTheMultisetAndAConcurrentReaderNeverSeesADuplicateOrAGap(string lakeKind)
    {
        var ct = TestContext.Current.CancellationToken;
        using var lake = new TestLake(lakeKind, s3);
        var topic = $"events-compact-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        var dayStart = Day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var options = new EventsOptions
        {
            Topic = topic,
            GroupId = group,
            Compaction = new CompactionOptions { RowGroupRows = 500, ReplacedFileGrace = TimeSpan.FromSeconds(1), MaxFilesPerDay = 8 },
        };
        var compactor = new EventsCompactor(lake.Storage, options, TimeProvider.System, NullLogger<EventsCompactor>.Instance);
        var reader = new EventsLakeReader(lake.Storage);
        using var offsetReader = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = kafka.Cluster.BootstrapServers, GroupId = group }).Build();

        await using var pipeline = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lake.Options.Root, topic, group,
            lake.Settings(new Dictionary<string, string?> { ["Events:MaxBatchRecords"] = "100" }));
        var sent = await TestEvents.ProduceAsync(producer, topic, 2_000, malformedEvery: 0, dayStart, customers: 40, cancellationToken: ct);
        await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(60));
        var before = (await Lake.ReadAllEventsAsync(lake.Storage)).Select(e => e.Event).ToList();
        Assert.Equal(2_000, before.Count);
        Assert.True((await reader.ReadDayAsync(Day, ct)).Readable.Count > 8, "many small batch files before compaction");

        // A reader keeps taking snapshots of the day while ingestion and compaction run.
        using var stop = new CancellationTokenSource();
        var snapshots = 0;
        var problems = new ConcurrentQueue<string>();
        var readerTask = Task.Run(async () =>
        {
            var seen = new HashSet<string>();
            while (!stop.IsCancellationRequested)
            {
                var snapshot = await ReadSnapshotAsync(reader, lake.Storage);
                if (snapshot is null) continue; // a file of the list was cleaned up: take a new list, as the Api would
                var ids = snapshot.Select(e => e.EventId).ToList();
                var distinct = ids.ToHashSet();
                if (distinct.Count != ids.Count) problems.Enqueue($"snapshot {snapshots} holds {ids.Count - distinct.Count} duplicate(s)");
                var lost = seen.Count(id => !distinct.Contains(id));
                if (lost > 0) problems.Enqueue($"snapshot {snapshots} lost {lost} event(s) an earlier snapshot had");
                seen = distinct;
                snapshots++;
            }
        }, ct);

        // More events for the same day arrive while compactions run.
        var compactions = 0;
        for (var round = 1; round <= 4; round++)
        {
            sent.AddRange(await TestEvents.ProduceAsync(producer, topic, 500, malformedEvery: 0, dayStart, customers: 40, startIndex: round * 10_000, cancellationToken: ct));
            compactions += (await compactor.RunPassAsync(b => EventsCompactionService.CommittedOffsets(offsetReader, b), ct)).Count;
            await Task.Delay(300, ct);
        }
        await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(60));
        EventsDayView view = null!;
        for (var pass = 0; pass < 10; pass++)
        {
            compactions += (await compactor.RunPassAsync(b => EventsCompactionService.CommittedOffsets(offsetReader, b), ct)).Count;
            view = await reader.ReadDayAsync(Day, ct);
            if (view.Readable.Count == 1 && view.Readable[0].Key.Contains(EventFileNames.CompactedPrefix, StringComparison.Ordinal)) break;
            await Task.Delay(300, ct);
        }
        await Task.Delay(1_500, ct); // past the grace period: the next pass deletes the replaced files
        await compactor.RunPassAsync(b => EventsCompactionService.CommittedOffsets(offsetReader, b), ct);
        // The reader must also take a whole snapshot that starts after the clean-up (a fixed pause did not ensure
        // one on a slow machine, where one snapshot over many S3 objects can take seconds).
        var afterCleanUp = Volatile.Read(ref snapshots) + 1;
        var readerDeadline = DateTime.UtcNow.AddSeconds(60);
        while (Volatile.Read(ref snapshots) < Math.Max(3, afterCleanUp + 1) && !readerTask.IsCompleted && DateTime.UtcNow < readerDeadline)
        {
            await Task.Delay(50, ct);
        }
        await stop.CancelAsync();
        await readerTask;

        Assert.True(problems.IsEmpty, string.Join("\n", problems));
        Assert.True(compactions >= 2, $"compactions ran during ingestion ({compactions})");
        Assert.True(snapshots >= 3, $"the reader took snapshots during compaction ({snapshots})");
        Assert.True(snapshots > afterCleanUp, $"the reader took a snapshot after the clean-up ({snapshots} snapshots, {afterCleanUp + 1} needed)");
        Assert.Single(view.Readable);

        // The one compacted file holds exactly the events ingested, sorted for customer queries, in several row groups.
        var bytes = (await lake.Storage.ReadAsync(view.Readable[0].Key, ct))!;
        var compacted = await EventParquet.ReadEventsAsync(bytes, ct);
        Assert.Equal(sent.Select(s => s.EventId).Order(StringComparer.Ordinal), compacted.Select(e => e.EventId).Order(StringComparer.Ordinal));
        var byId = compacted.ToDictionary(e => e.EventId);
        Assert.All(before, e => Assert.Equal(e, byId[e.EventId]));
        Assert.Equal(compacted.OrderBy(e => e, Comparer<LakeEvent>.Create(EventsCompactor.CompareForLayout)).ToList(), compacted);
        using (var stream = new MemoryStream(bytes))
        await using (var parquet = await ParquetReader.CreateAsync(stream, cancellationToken: ct))
        {
            Assert.Equal((compacted.Count + 499) / 500, parquet.RowGroupCount);
        }
        // Everything replaced is gone after the grace period; only the live file and the latest manifest remain.
        var left = await lake.Storage.ListAsync(LakeLayout.EventsPartition(Day), ct);
        Assert.Equal(2, left.Count);
    }

    private static async Task<List<LakeEvent>?> ReadSnapshotAsync(EventsLakeReader reader, CustomerData.Lake.ILakeStorage storage)
    {
        var events = new List<LakeEvent>();
        foreach (var key in await reader.ListReadableKeysAsync(Day, Day))
        {
            var bytes = await storage.ReadAsync(key);
            if (bytes is null) return null;
            events.AddRange(await EventParquet.ReadEventsAsync(bytes));
        }
        return events;
    }
}
