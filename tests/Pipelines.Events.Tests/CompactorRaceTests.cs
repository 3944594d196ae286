using System.Collections.Concurrent;
using CustomerData.Contracts;
using CustomerData.Lake;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>
/// Review point "overlapping compactors": right after a rebalance the old and the new leader can both compact a
/// day, at the same generation. The local backend (its create-only rename is atomic; s3rver ignores
/// If-None-Match, see docs/events.md) with real batch files; gates hold each compactor right before its manifest
/// switch so the race happens in the worst order every time.
/// </summary>
public sealed class CompactorRaceTests
{
    private static readonly DateOnly Day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-3);

    [Fact]
    public async Task TwoCompactorsRacingOnOneDayLeaveOneConsistentManifestAndAReaderNeverSeesADuplicateOrAGap()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempLake();
        var lake = new LocalFolderLakeStorage(folder.Root);
        var reader = new EventsLakeReader(lake);
        var written = new ConcurrentDictionary<string, bool>();
        await WriteBatchAsync(lake, 0, 300, written);
        await WriteBatchAsync(lake, 300, 300, written);

        // A reader checks every snapshot of the day: no event twice, none of the events written before it listed missing.
        using var stop = new CancellationTokenSource();
        var problems = new ConcurrentQueue<string>();
        var snapshots = 0;
        var readerTask = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var expected = written.Keys.ToHashSet();
                var ids = await ReadSnapshotAsync(reader, lake);
                if (ids is null) continue;
                var distinct = ids.ToHashSet();
                if (distinct.Count != ids.Count) problems.Enqueue($"snapshot {snapshots}: {ids.Count - distinct.Count} duplicate(s)");
                var missing = expected.Count(id => !distinct.Contains(id));
                if (missing > 0) problems.Enqueue($"snapshot {snapshots}: {missing} event(s) missing");
                snapshots++;
            }
        }, ct);

        // The old leader takes the two batch files and stops right before its manifest switch.
        var oldLake = new GatedLakeStorage(lake, IsManifest);
        var oldLeader = Compactor(oldLake).CompactDayAsync(Day, _ => true, ct);
        await WaitAsync(() => oldLake.Blocked > 0, "the old leader reaches its manifest switch");
        // A third batch arrives; the new leader takes all three, same generation, and switches first.
        await WriteBatchAsync(lake, 600, 300, written);
        var newLake = new GatedLakeStorage(lake, IsManifest);
        var newLeader = Compactor(newLake).CompactDayAsync(Day, _ => true, ct);
        await WaitAsync(() => newLake.Blocked > 0, "the new leader reaches its manifest switch");
        newLake.Open();
        var newResult = await newLeader;
        oldLake.Open();
        var oldResult = await oldLeader;
        await WaitAsync(() => Volatile.Read(ref snapshots) >= 3, "the reader takes snapshots after both switches");
        await stop.CancelAsync();
        await readerTask;

        Assert.True(problems.IsEmpty, string.Join("\n", problems.Take(10)));
        Assert.NotNull(newResult);
        Assert.Equal(900, newResult.Rows);
        Assert.Null(oldResult); // it lost the race for generation 1: no manifest of its own, outputs gone
        var view = await reader.ReadDayAsync(Day, ct);
        Assert.Equal(1, view.Manifest!.Generation);
        Assert.Equal(view.Manifest.Live, view.Readable.Select(o => EventFileNames.FileName(o.Key)));
        var compactedFiles = view.Objects.Select(o => EventFileNames.FileName(o.Key)).Where(n => n.StartsWith(EventFileNames.CompactedPrefix, StringComparison.Ordinal));
        Assert.Equal(view.Manifest.Live.Order(StringComparer.Ordinal), compactedFiles.Order(StringComparer.Ordinal));
        Assert.Single(view.Objects, o => EventFileNames.FileName(o.Key).StartsWith(EventFileNames.ManifestPrefix, StringComparison.Ordinal));
        var final = await ReadSnapshotAsync(reader, lake);
        Assert.Equal(written.Keys.Order(StringComparer.Ordinal), final!.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ACompactorThatLostLeadershipBeforeTheSwitchPublishesNothingAndRemovesItsOutputs()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempLake();
        var lake = new LocalFolderLakeStorage(folder.Root);
        var written = new ConcurrentDictionary<string, bool>();
        await WriteBatchAsync(lake, 0, 200, written);
        await WriteBatchAsync(lake, 200, 200, written);
        var before = (await lake.ListAsync(LakeLayout.EventsPartition(Day), ct)).Select(o => o.Key).ToList();
        var leader = true;
        var compactor = Compactor(lake);

        // Leadership moves while the compaction reads and writes (the check right before the switch sees it).
        var result = await compactor.CompactDayAsync(Day, _ => { leader = false; return true; }, ct, () => leader);

        Assert.Null(result);
        Assert.Equal(before, (await lake.ListAsync(LakeLayout.EventsPartition(Day), ct)).Select(o => o.Key));
        Assert.NotNull(await compactor.CompactDayAsync(Day, _ => true, ct, () => true)); // the leader's compaction goes through
    }

    private static bool IsManifest(string key) => EventFileNames.FileName(key).StartsWith(EventFileNames.ManifestPrefix, StringComparison.Ordinal);

    private static EventsCompactor Compactor(ILakeStorage lake) =>
        new(lake, new EventsOptions { Compaction = new CompactionOptions { RowGroupRows = 100 } }, TimeProvider.System, NullLogger<EventsCompactor>.Instance);

    /// <summary>A batch file as the pipeline writes it (partition 0, named from its first offset).</summary>
    private static async Task WriteBatchAsync(ILakeStorage lake, int firstOffset, int count, ConcurrentDictionary<string, bool> written)
    {
        var dayStart = Day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var events = Enumerable.Range(firstOffset, count)
            .Select(i => new LakeEvent($"{i:D8}-{Guid.NewGuid():N}", 1 + i % 37, "PAGE_VIEW", i % 5 == 0 ? null : i, dayStart.AddSeconds(i), CustomerEventDecoder.TruncateToMicros(DateTime.UtcNow)))
            .ToList();
        var content = await EventParquet.WriteEventsAsync(events, events.Count, new Dictionary<string, string>());
        await lake.PublishAsync(EventFileNames.EventsBatchKey(Day, "race", 0, firstOffset), content);
        foreach (var e in events) written[e.EventId] = true;
    }

    private static async Task<List<string>?> ReadSnapshotAsync(EventsLakeReader reader, ILakeStorage lake)
    {
        var ids = new List<string>();
        foreach (var key in await reader.ListReadableKeysAsync(Day, Day))
        {
            var bytes = await lake.ReadAsync(key);
            if (bytes is null) return null; // cleaned up after its grace period: list again, as the Api does
            ids.AddRange((await EventParquet.ReadEventsAsync(bytes)).Select(e => e.EventId));
        }
        return ids;
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting until {what}.");
            await Task.Delay(20);
        }
    }
}
