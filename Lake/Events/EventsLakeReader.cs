using System.Text.Json;
using CustomerData.Contracts;

namespace CustomerData.Lake;

/// <summary>A file a compaction replaced, and when: it is deleted once the grace period has passed.</summary>
public sealed record ReplacedFile(string Name, DateTime ReplacedUtc);

/// <summary>
/// The per-day compaction manifest <c>events/event_date=D/_manifest-gNNNNNNNN.json</c>. The manifest with
/// the highest generation decides what a reader reads in that day: its <see cref="Live"/> compacted files,
/// plus every batch file that is not in <see cref="Replaced"/>. Compacted files it does not list (being
/// written, or left by a crash) are never read. Publishing a manifest is one atomic object write, so a
/// compaction switches readers from the old files to the new ones in one step.
/// </summary>
public sealed record CompactionManifest(long Generation, DateTime CreatedUtc, List<string> Live, List<ReplacedFile> Replaced, long Rows)
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, s_json);
    public static CompactionManifest FromJson(byte[] json) =>
        JsonSerializer.Deserialize<CompactionManifest>(json, s_json) ?? throw new InvalidDataException("empty compaction manifest");
}

/// <summary>One day of the events lake as a reader must see it.</summary>
public sealed record EventsDayView(
    DateOnly Day,
    IReadOnlyList<LakeObject> Objects,
    CompactionManifest? Manifest,
    IReadOnlyList<LakeObject> Readable);

/// <summary>
/// The exact list of Parquet files to read for a range of days, following the compaction manifests, so a
/// reader never sees an event twice or misses one while a compaction runs. The Api passes the list to
/// DuckDB: <c>read_parquet([...], hive_partitioning = true)</c>.
/// </summary>
public sealed class EventsLakeReader(ILakeStorage lake)
{
    private const int Attempts = 5;

    /// <summary>Keys (relative to the lake root) of the files to read for <paramref name="from"/>..<paramref name="to"/> (inclusive, null = open).</summary>
    public async Task<IReadOnlyList<string>> ListReadableKeysAsync(DateOnly? from, DateOnly? to, CancellationToken cancellationToken = default)
    {
        var result = new List<string>();
        foreach (var view in await ReadDaysAsync(from, to, cancellationToken))
        {
            result.AddRange(view.Readable.Select(o => o.Key));
        }
        return result;
    }

    /// <summary>Like <see cref="ListReadableKeysAsync"/>, as full paths or <c>s3://</c> URIs for DuckDB.</summary>
    public async Task<IReadOnlyList<string>> ListReadableUrisAsync(DateOnly? from, DateOnly? to, CancellationToken cancellationToken = default) =>
        (await ListReadableKeysAsync(from, to, cancellationToken)).Select(ToUri).ToList();

    /// <summary>
    /// Runs <paramref name="read"/> (e.g. a DuckDB query over the list) on the readable URIs of the days, and when it
    /// fails while the list changed meanwhile (a compaction switched and deleted the files it replaced right after),
    /// lists again and retries. A failure over an unchanged list is the caller's own and is thrown.
    /// </summary>
    public async Task<T> ReadConsistentAsync<T>(DateOnly? from, DateOnly? to, Func<IReadOnlyList<string>, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var uris = await ListReadableUrisAsync(from, to, cancellationToken);
            try
            {
                return await read(uris, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && attempt < Attempts)
            {
                var now = await ListReadableUrisAsync(from, to, cancellationToken);
                if (now.SequenceEqual(uris, StringComparer.Ordinal)) throw;
                await Task.Delay(10 * attempt, cancellationToken);
            }
        }
    }

    public string ToUri(string key) => lake.RootUri.TrimEnd('/') + "/" + key;

    public async Task<IReadOnlyList<EventsDayView>> ReadDaysAsync(DateOnly? from, DateOnly? to, CancellationToken cancellationToken = default)
    {
        IEnumerable<IGrouping<DateOnly, LakeObject>> days;
        if (from is { } f && to is { } t && t.DayNumber - f.DayNumber <= 62)
        {
            var listed = new List<LakeObject>();
            for (var d = f; d <= t; d = d.AddDays(1))
            {
                listed.AddRange(await ListAsync(LakeLayout.EventsPartition(d), cancellationToken));
            }
            days = Group(listed);
        }
        else
        {
            days = Group(await ListAsync(LakeLayout.EventsTable + "/", cancellationToken))
                .Where(g => (from is null || g.Key >= from) && (to is null || g.Key <= to));
        }
        var views = new List<EventsDayView>();
        foreach (var day in days.OrderBy(g => g.Key))
        {
            views.Add(await ReadDayAsync(day.Key, day.ToList(), cancellationToken));
        }
        return views;
    }

    public async Task<EventsDayView> ReadDayAsync(DateOnly day, CancellationToken cancellationToken = default) =>
        await ReadDayAsync(day, await ListAsync(LakeLayout.EventsPartition(day), cancellationToken), cancellationToken);

    private async Task<EventsDayView> ReadDayAsync(DateOnly day, IReadOnlyList<LakeObject> objects, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var view = await TryViewAsync(day, objects, cancellationToken);
            if (view is not null) return view;
            // The listing raced a compaction's clean-up (manifest or live file gone): list again.
            if (attempt >= Attempts) throw new IOException($"The events lake day {LakeLayout.Day(day)} kept changing while it was listed.");
            await Task.Delay(20 * attempt, cancellationToken);
            objects = await ListAsync(LakeLayout.EventsPartition(day), cancellationToken);
        }
    }

    private async Task<EventsDayView?> TryViewAsync(DateOnly day, IReadOnlyList<LakeObject> objects, CancellationToken cancellationToken)
    {
        var byName = objects.ToDictionary(o => EventFileNames.FileName(o.Key), StringComparer.Ordinal);
        var latest = byName.Keys
            .Select(n => (Name: n, Ok: EventFileNames.TryParseGeneration(n, EventFileNames.ManifestPrefix, out var g), Generation: g))
            .Where(x => x.Ok && x.Name.EndsWith(EventFileNames.ManifestSuffix, StringComparison.Ordinal))
            .OrderByDescending(x => x.Generation)
            .FirstOrDefault();
        CompactionManifest? manifest = null;
        var readable = new List<LakeObject>();
        if (latest.Name is not null)
        {
            var bytes = await lake.ReadAsync(byName[latest.Name].Key, cancellationToken);
            if (bytes is null) return null;
            manifest = CompactionManifest.FromJson(bytes);
            foreach (var live in manifest.Live)
            {
                if (!byName.TryGetValue(live, out var o)) return null;
                readable.Add(o);
            }
        }
        var replaced = manifest?.Replaced.Select(r => r.Name).ToHashSet(StringComparer.Ordinal) ?? [];
        foreach (var (name, o) in byName)
        {
            if (name.StartsWith(EventFileNames.BatchPrefix, StringComparison.Ordinal)
                && name.EndsWith(EventFileNames.ParquetSuffix, StringComparison.Ordinal)
                && !replaced.Contains(name))
            {
                readable.Add(o);
            }
        }
        readable.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new EventsDayView(day, objects, manifest, readable);
    }

    /// <summary>
    /// Lists, tolerating a file deleted while the local backend enumerates the folder (it then fails to stat it):
    /// a compaction's clean-up may run at that moment, so list again.
    /// </summary>
    private async Task<IReadOnlyList<LakeObject>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await lake.ListAsync(prefix, cancellationToken);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException && attempt < Attempts)
            {
                await Task.Delay(10 * attempt, cancellationToken);
            }
        }
    }

    private static IEnumerable<IGrouping<DateOnly, LakeObject>> Group(IEnumerable<LakeObject> objects) =>
        objects
            .Select(o => (Ok: EventFileNames.TryParseDay(o.Key, out var d), Day: d, Object: o))
            .Where(x => x.Ok)
            .GroupBy(x => x.Day, x => x.Object);
}
