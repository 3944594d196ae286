using CustomerData.Lake;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerData.Pipelines.Events.Tests;

public sealed class MalformedRetentionTests
{
    [Fact]
    public async Task TheMalformedAreaKeepsOnlyItsRetentionAndValidEventsAreNeverTouched()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempLake();
        var lake = new LocalFolderLakeStorage(folder.Root);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var old = today.AddDays(-10);
        var recent = today.AddDays(-2);
        var record = new MalformedEvent("AAAA", "undecodable", "test", "t", 0, 1, DateTime.UtcNow, DateTime.UtcNow);
        foreach (var day in new[] { old, recent })
        {
            await lake.PublishAsync(EventFileNames.MalformedBatchKey(day, "t", 0, 1), await EventParquet.WriteMalformedAsync([record], ct), ct);
        }
        var eventKey = EventFileNames.EventsBatchKey(old, "t", 0, 1);
        await lake.PublishAsync(eventKey, await EventParquet.WriteEventsAsync(
            [new LakeEvent("e-1", 1, "LIKE", null, old.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), DateTime.UtcNow)], 10, cancellationToken: ct), ct);
        var options = new EventsOptions { Compaction = new CompactionOptions { MalformedRetentionDays = 7 } };
        var compactor = new EventsCompactor(lake, options, TimeProvider.System, NullLogger<EventsCompactor>.Instance);

        await compactor.RunPassAsync(_ => new Dictionary<(string, int), long>(), ct);

        var malformed = (await lake.ListAsync(LakeLayout.EventsMalformed + "/", ct)).Select(o => o.Key).ToList();
        Assert.Equal([EventFileNames.MalformedBatchKey(recent, "t", 0, 1)], malformed);
        Assert.NotNull(await lake.ReadAsync(eventKey, ct));
    }

    [Fact]
    public async Task AClosedMalformedDayIsCompactedIntoOneFileOfItsCommittedRecordsAgainAndAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempLake();
        var lake = new LocalFolderLakeStorage(folder.Root);
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-3);
        async Task WriteBatchAsync(long first, int count)
        {
            var records = Enumerable.Range(0, count).Select(i => new MalformedEvent("QUJD", "undecodable", "test", "t", 0, first + i,
                day.ToDateTime(new TimeOnly(12, 0), DateTimeKind.Utc), DateTime.UtcNow)).ToList();
            await lake.PublishAsync(EventFileNames.MalformedBatchKey(day, "t", 0, first), await EventParquet.WriteMalformedAsync(records, ct), ct);
        }
        for (var b = 0; b < 5; b++) await WriteBatchAsync(b * 10, 10);
        await WriteBatchAsync(50, 10); // above the lake's position: a crashed batch's leftover, never compacted
        var position = new PartitionPosition("t", 0, 0, 50, null, null, DateTime.UtcNow);
        await lake.PublishAsync(position.Key, position.ToJson(), ct);
        var compactor = new EventsCompactor(lake, new EventsOptions(), TimeProvider.System, NullLogger<EventsCompactor>.Instance);

        await compactor.RunPassAsync(_ => new Dictionary<(string, int), long>(), ct);
        await AssertDayAsync(lake, day, compactedOffsets: 50, leftoverBatch: EventFileNames.MalformedBatchKey(day, "t", 0, 50), ct);

        // The leftover is committed after all, and more batches come: the next pass folds everything into one file again.
        await WriteBatchAsync(60, 10);
        await lake.PublishAsync(position.Key, (position with { NextOffset = 70 }).ToJson(), ct);
        await compactor.RunPassAsync(_ => new Dictionary<(string, int), long>(), ct);
        await AssertDayAsync(lake, day, compactedOffsets: 70, leftoverBatch: null, ct);
    }

    private static async Task AssertDayAsync(ILakeStorage lake, DateOnly day, int compactedOffsets, string? leftoverBatch, CancellationToken ct)
    {
        var parquet = (await lake.ListAsync(LakeLayout.MalformedPartition(day), ct)).Where(o => o.Key.EndsWith(".parquet", StringComparison.Ordinal)).ToList();
        var compacted = Assert.Single(parquet, o => EventFileNames.FileName(o.Key).StartsWith(EventFileNames.CompactedPrefix, StringComparison.Ordinal));
        var records = await EventParquet.ReadMalformedAsync((await lake.ReadAsync(compacted.Key, ct))!, ct);
        Assert.Equal(Enumerable.Range(0, compactedOffsets).Select(i => (long)i), records.Select(r => r.Offset));
        Assert.Equal(leftoverBatch is null ? [] : [leftoverBatch], parquet.Where(o => o != compacted).Select(o => o.Key));
    }
}
