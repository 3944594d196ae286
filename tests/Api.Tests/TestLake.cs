using CustomerData.Lake;
using CustomerData.Pipelines.Events;
using CustomerData.Pipelines.Summary;
using Parquet;

namespace CustomerData.Api.Tests;

/// <summary>A lake written with the pipelines' own writers (Pipeline B's day files, Pipeline C's batch and compacted files and manifests).</summary>
public sealed class TestLake(ILakeStorage storage)
{
    public ILakeStorage Storage { get; } = storage;

    public static TestLake InTempFolder(out string folder)
    {
        folder = Path.Combine(Path.GetTempPath(), "api-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return new TestLake(new LocalFolderLakeStorage(folder));
    }

    /// <summary>One summary day as Pipeline B publishes it (rows sorted by customer_id).</summary>
    public async Task WriteSummaryDayAsync(DateOnly day, IEnumerable<DailySummary> rows)
    {
        var sorted = rows.OrderBy(r => r.CustomerId).ToList();
        await Storage.PublishAsync(LakeLayout.SummaryFile(day), await SummaryParquet.WriteAsync(sorted, CompressionMethod.Snappy));
    }

    /// <summary>A batch file as Pipeline C writes it: events of one day in offset order.</summary>
    public async Task<string> WriteBatchAsync(DateOnly day, IReadOnlyList<LakeEvent> events, long firstOffset, int partition = 0)
    {
        var key = EventFileNames.EventsBatchKey(day, PlatformNamesForTests.Topic, partition, firstOffset);
        await Storage.PublishAsync(key, await EventParquet.WriteEventsAsync(events, rowGroupRows: 65_536));
        return key;
    }

    /// <summary>
    /// A compaction as Pipeline C switches it: the events sorted by customer, event time, id into one compacted file,
    /// then manifest <paramref name="generation"/> naming it live and <paramref name="replaced"/> replaced.
    /// </summary>
    public async Task CompactAsync(DateOnly day, IReadOnlyList<LakeEvent> events, long generation, IReadOnlyList<string> replaced, int rowGroupRows = 10_000)
    {
        var sorted = events.OrderBy(e => e.CustomerId).ThenBy(e => e.EventTimestamp).ThenBy(e => e.EventId, StringComparer.Ordinal).ToList();
        var name = EventFileNames.CompactedFile(generation, "t" + generation, 0);
        await Storage.PublishAsync(LakeLayout.EventsPartition(day) + name, await EventParquet.WriteEventsAsync(sorted, rowGroupRows));
        var manifest = new CompactionManifest(generation, DateTime.UtcNow, [name],
            replaced.Select(k => new ReplacedFile(EventFileNames.FileName(k), DateTime.UtcNow)).ToList(), sorted.Count);
        await Storage.PublishAsync(LakeLayout.EventsPartition(day) + EventFileNames.ManifestFile(generation), manifest.ToJson());
    }
}

public static class PlatformNamesForTests
{
    public const string Topic = "customer-events";
}
