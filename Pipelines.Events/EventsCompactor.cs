using System.Diagnostics;
using CustomerData.Contracts;
using CustomerData.Lake;
using Microsoft.Extensions.Logging;

namespace CustomerData.Pipelines.Events;

/// <summary>What one compaction of a day did.</summary>
public sealed record CompactionResult(DateOnly Day, long Generation, int InputFiles, int OutputFiles, long Rows);

/// <summary>
/// Rewrites a day's many small batch files into few big ones, sorted by customer_id then event_timestamp
/// (then event_id), in row groups small enough that customer_id min/max statistics prune well.
/// Readers follow the day's manifest (<see cref="CompactionManifest"/>): outputs are written first under new
/// names nobody reads, then one manifest write switches readers over, and the replaced files are deleted right
/// after it, so a plain glob of the table sees a day's events twice only for those deletes. Only batch files whose offsets are committed are taken, so a replay can never bring
/// back an event that a compacted file already holds. One compactor should run at a time (the instance that owns
/// the topic's partition 0); when two overlap after a rebalance, each writes its outputs under names of its own
/// and the manifest is created only if its generation does not exist yet, so exactly one of them switches the
/// readers and the other deletes its outputs.
/// </summary>
public sealed class EventsCompactor(ILakeStorage lake, EventsOptions options, TimeProvider time, ILogger<EventsCompactor> logger)
{
    private readonly EventsLakeReader _reader = new(lake);
    private CompactionOptions Settings => options.Compaction;

    /// <summary>Looks at every recent day: compacts the ones that need it, deletes replaced files past their grace.</summary>
    /// <param name="isLeader">Asked again right before each manifest switch (null: always leader).</param>
    public async Task<IReadOnlyList<CompactionResult>> RunPassAsync(Func<IReadOnlyCollection<BatchFileName>, IReadOnlyDictionary<(string Topic, int Partition), long>> committedOffsets, CancellationToken cancellationToken,
        Func<bool>? isLeader = null)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var from = DateOnly.FromDateTime(now).AddDays(-Settings.LookbackDays);
        var results = new List<CompactionResult>();
        // Read before the days are listed: positions only move forward, so a file they hold stays held.
        var positions = await PartitionPosition.ReadAllAsync(lake, cancellationToken);
        var views = await _reader.ReadDaysAsync(from, null, cancellationToken);
        // Days that left the look-back window (or the lake) are no longer reported.
        EventsTelemetry.RetainFilesPerDay(views.Select(v => LakeLayout.Day(v.Day)).ToHashSet(StringComparer.Ordinal));
        foreach (var view in views)
        {
            EventsTelemetry.SetFilesPerDay(LakeLayout.Day(view.Day), view.Readable.Count);
            await DeleteReplacedAsync(view, now, cancellationToken);
            if (!NeedsCompaction(view, now)) continue;
            var batches = BatchesOf(view.Readable);
            // The lake's own positions say what is committed; the group's offsets only for partitions without one
            // (a lake written before positions). Offsets can be reset past what the lake holds.
            var committed = committedOffsets(batches.Where(b => !positions.ContainsKey((b.Topic, b.Partition))).ToList());
            var result = await CompactDayAsync(view.Day, IsCommitted(positions, committed), cancellationToken, isLeader);
            if (result is not null)
            {
                results.Add(result);
                EventsTelemetry.SetFilesPerDay(LakeLayout.Day(view.Day), (await _reader.ReadDayAsync(view.Day, cancellationToken)).Readable.Count);
            }
        }
        await ApplyMalformedRetentionAsync(now, cancellationToken);
        await CompactMalformedAsync(now, from, b => positions.TryGetValue((b.Topic, b.Partition), out var p) && p.Holds(b), cancellationToken);
        return results;
    }

    /// <summary>
    /// Whether a batch file is committed data: the lake's position of its partition holds it, or (a partition without a
    /// position: a lake written before positions) the group's committed offset is above it.
    /// </summary>
    public static Func<BatchFileName, bool> IsCommitted(IReadOnlyDictionary<(string Topic, int Partition), PartitionPosition> positions,
        IReadOnlyDictionary<(string Topic, int Partition), long> committed) =>
        b => positions.TryGetValue((b.Topic, b.Partition), out var p)
            ? p.Holds(b)
            : b.Epoch == 0 && committed.TryGetValue((b.Topic, b.Partition), out var c) && b.FirstOffset < c;

    /// <summary>
    /// Compacts the malformed area's days like the events days (closed, or over <see cref="CompactionOptions.MaxFilesPerDay"/>
    /// files) into one file each, for plain-glob readers (nobody reads it through a manifest): a manifest naming the output
    /// and its inputs is created first (create-only, not <c>*.parquet</c>), then the output is published and the inputs
    /// deleted. A pass that finds a manifest whose output exists finishes its deletes; one whose output is missing
    /// (a crash before it) is void and removed. Only batch files the lake's positions hold are taken.
    /// </summary>
    public async Task<int> CompactMalformedAsync(DateTime nowUtc, DateOnly from, Func<BatchFileName, bool> isCommitted, CancellationToken cancellationToken)
    {
        var compacted = 0;
        var days = (await lake.ListAsync(LakeLayout.EventsMalformed + "/", cancellationToken))
            .Select(o => (Ok: EventFileNames.TryParseDay(o.Key, out var d), Day: d, Object: o))
            .Where(x => x.Ok && x.Day >= from)
            .GroupBy(x => x.Day, x => x.Object);
        foreach (var day in days)
        {
            var prefix = LakeLayout.MalformedPartition(day.Key);
            var generation = await FinishMalformedCompactionsAsync(day.ToList(), cancellationToken);
            var objects = await lake.ListAsync(prefix, cancellationToken);
            var inputs = objects.Where(o =>
                {
                    var name = EventFileNames.FileName(o.Key);
                    return EventFileNames.TryParseBatch(name, out var b) ? isCommitted(b)
                        : name.StartsWith(EventFileNames.CompactedPrefix, StringComparison.Ordinal) && name.EndsWith(EventFileNames.ParquetSuffix, StringComparison.Ordinal);
                })
                .ToList();
            if (inputs.Count <= 1 || (!IsClosed(day.Key, nowUtc) && objects.Count(o => o.Key.EndsWith(EventFileNames.ParquetSuffix, StringComparison.Ordinal)) <= Settings.MaxFilesPerDay)) continue;
            var rows = new List<MalformedEvent>();
            foreach (var input in inputs)
            {
                var bytes = await lake.ReadAsync(input.Key, cancellationToken) ?? throw new IOException($"Compaction input {input.Key} vanished: another compactor is running?");
                rows.AddRange(await EventParquet.ReadMalformedAsync(bytes, cancellationToken));
            }
            rows.Sort((a, b) => (a.Topic, a.Partition, a.Offset).CompareTo((b.Topic, b.Partition, b.Offset)));
            generation++;
            var output = EventFileNames.CompactedFile(generation, Guid.NewGuid().ToString("N")[..8], 0);
            var manifest = new CompactionManifest(generation, nowUtc, [output],
                [.. inputs.Select(o => new ReplacedFile(EventFileNames.FileName(o.Key), nowUtc))], rows.Count);
            if (!await lake.TryCreateAsync(prefix + EventFileNames.ManifestFile(generation), manifest.ToJson(), cancellationToken)) continue; // another compactor
            await lake.PublishAsync(prefix + output, await EventParquet.WriteMalformedAsync(rows, cancellationToken), cancellationToken);
            await Task.WhenAll(inputs.Select(o => lake.DeleteAsync(o.Key, cancellationToken)));
            compacted++;
            logger.LogInformation("Compacted malformed {EventDate} generation {Generation}: {InputFiles} files into 1, {Rows} rows",
                LakeLayout.Day(day.Key), generation, inputs.Count, rows.Count);
        }
        return compacted;
    }

    /// <summary>Completes (or voids) the malformed compactions a day's manifests describe; returns the highest generation seen.</summary>
    private async Task<long> FinishMalformedCompactionsAsync(IReadOnlyList<LakeObject> objects, CancellationToken cancellationToken)
    {
        var byName = objects.ToDictionary(o => EventFileNames.FileName(o.Key), o => o.Key, StringComparer.Ordinal);
        long highest = 0;
        foreach (var (name, key) in byName)
        {
            if (EventFileNames.TryParseGeneration(name, EventFileNames.CompactedPrefix, out var g)) highest = Math.Max(highest, g);
            if (!EventFileNames.TryParseGeneration(name, EventFileNames.ManifestPrefix, out g) || !name.EndsWith(EventFileNames.ManifestSuffix, StringComparison.Ordinal)) continue;
            highest = Math.Max(highest, g);
            if (await lake.ReadAsync(key, cancellationToken) is not { } json) continue;
            var manifest = CompactionManifest.FromJson(json);
            if (manifest.Live.All(byName.ContainsKey))
            {
                foreach (var replaced in manifest.Replaced)
                {
                    if (byName.TryGetValue(replaced.Name, out var replacedKey)) await lake.DeleteAsync(replacedKey, cancellationToken);
                }
            }
            else
            {
                // Its output was never published: the inputs are still the data.
                await lake.DeleteAsync(key, cancellationToken);
            }
        }
        return highest;
    }

    /// <summary>Deletes the malformed area's days older than <see cref="CompactionOptions.MalformedRetentionDays"/>.</summary>
    public async Task<int> ApplyMalformedRetentionAsync(DateTime nowUtc, CancellationToken cancellationToken)
    {
        if (Settings.MalformedRetentionDays is not { } days) return 0;
        var keepFrom = DateOnly.FromDateTime(nowUtc).AddDays(-days);
        var deleted = 0;
        foreach (var o in await lake.ListAsync(LakeLayout.EventsMalformed + "/", cancellationToken))
        {
            if (EventFileNames.TryParseDay(o.Key, out var day) && day < keepFrom)
            {
                await lake.DeleteAsync(o.Key, cancellationToken);
                deleted++;
            }
        }
        if (deleted > 0) logger.LogInformation("Malformed-area retention ({Days} days) deleted {Files} file(s) before {KeepFrom}", days, deleted, LakeLayout.Day(keepFrom));
        return deleted;
    }

    public bool IsClosed(DateOnly day, DateTime nowUtc) =>
        nowUtc >= day.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) + Settings.DayLateness;

    private bool NeedsCompaction(EventsDayView view, DateTime now)
    {
        var hasBatchFiles = view.Readable.Any(o => IsBatch(o.Key));
        if (!hasBatchFiles && view.Readable.Count(o => !IsFull(o)) <= 1) return false;
        return IsClosed(view.Day, now) || view.Readable.Count > Settings.MaxFilesPerDay;
    }

    /// <summary>
    /// Compacts <paramref name="day"/>: every readable batch file for which <paramref name="isCommitted"/> holds,
    /// plus the compacted files that are not full yet. Null when there is nothing worth rewriting, or when another
    /// compactor switched the day first or <paramref name="isLeader"/> says this one is no longer the compactor
    /// (then its outputs are deleted again and readers never saw them).
    /// </summary>
    public async Task<CompactionResult?> CompactDayAsync(DateOnly day, Func<BatchFileName, bool> isCommitted, CancellationToken cancellationToken,
        Func<bool>? isLeader = null)
    {
        using var activity = EventsTelemetry.Source.StartActivity("events.compact");
        activity?.SetTag("event_date", LakeLayout.Day(day));
        var started = Stopwatch.GetTimestamp();
        var view = await _reader.ReadDayAsync(day, cancellationToken);
        var inputs = view.Readable
            .Where(o => IsBatch(o.Key) ? EventFileNames.TryParseBatch(EventFileNames.FileName(o.Key), out var b) && isCommitted(b) : !IsFull(o))
            .ToList();
        if (inputs.Count == 0 || (inputs.Count == 1 && !IsBatch(inputs[0].Key))) return null;

        var rows = new List<LakeEvent>();
        long inputBytes = 0;
        foreach (var input in inputs)
        {
            var bytes = await lake.ReadAsync(input.Key, cancellationToken)
                ?? throw new IOException($"Compaction input {input.Key} vanished: another compactor is running?");
            inputBytes += bytes.Length;
            rows.AddRange(await EventParquet.ReadEventsAsync(bytes, cancellationToken));
        }
        rows.Sort(CompareForLayout);

        var generation = (view.Manifest?.Generation ?? 0) + 1;
        var rowsPerFile = (int)Math.Clamp(Settings.TargetFileBytes / Math.Max(1.0, (double)inputBytes / Math.Max(1, rows.Count)), 1, int.MaxValue);
        var outputs = new List<string>();
        var attempt = Guid.NewGuid().ToString("N")[..8];
        for (var start = 0; start < rows.Count; start += rowsPerFile)
        {
            var chunk = rows.GetRange(start, Math.Min(rowsPerFile, rows.Count - start));
            var name = EventFileNames.CompactedFile(generation, attempt, outputs.Count);
            var content = await EventParquet.WriteEventsAsync(chunk, Settings.RowGroupRows,
                new Dictionary<string, string> { ["compaction_generation"] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture) }, cancellationToken);
            await lake.PublishAsync(LakeLayout.EventsPartition(day) + name, content, cancellationToken);
            outputs.Add(name);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var existing = view.Objects.Select(o => EventFileNames.FileName(o.Key)).ToHashSet(StringComparer.Ordinal);
        var inputNames = inputs.Select(o => EventFileNames.FileName(o.Key)).ToHashSet(StringComparer.Ordinal);
        var live = (view.Manifest?.Live ?? []).Where(n => !inputNames.Contains(n)).Concat(outputs).ToList();
        var replaced = (view.Manifest?.Replaced ?? []).Where(r => existing.Contains(r.Name))
            .Concat(inputNames.Select(n => new ReplacedFile(n, now)))
            .ToList();
        var manifest = new CompactionManifest(generation, now, live, replaced, rows.Count);
        // Leadership may have moved while this compaction ran (a rebalance): the new leader compacts the day.
        if (isLeader is not null && !isLeader())
        {
            await DeleteOutputsAsync(day, outputs, cancellationToken);
            logger.LogWarning("Compaction of {EventDate} generation {Generation} dropped: this instance is no longer the compactor", LakeLayout.Day(day), generation);
            return null;
        }
        // The switch: from here on readers take the outputs and skip the inputs. Create-only: if another
        // compactor published this generation first, its manifest stands and ours is never written.
        if (!await lake.TryCreateAsync(LakeLayout.EventsPartition(day) + EventFileNames.ManifestFile(generation), manifest.ToJson(), cancellationToken))
        {
            await DeleteOutputsAsync(day, outputs, cancellationToken);
            logger.LogWarning("Compaction of {EventDate} generation {Generation} dropped: another compactor switched this generation first", LakeLayout.Day(day), generation);
            return null;
        }

        // The replaced files leave the day folder right after the switch, so a plain glob of the table
        // (events/*/*.parquet) sees the outputs and the inputs together only for these deletes (concurrent: on S3
        // each is a request). Manifest-following readers that still hold the old list find a file gone and list again.
        var switched = Stopwatch.GetTimestamp();
        try
        {
            await Task.WhenAll(inputs.Select(o => lake.DeleteAsync(o.Key, cancellationToken)));
            EventsTelemetry.GlobOverlap.Record(Stopwatch.GetElapsedTime(switched).TotalSeconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The switch stands; the next pass deletes what is left (DeleteReplacedAsync).
            logger.LogWarning(ex, "Deleting the files compaction of {EventDate} generation {Generation} replaced failed; the next pass retries", LakeLayout.Day(day), generation);
        }
        EventsTelemetry.Compactions.Add(1);
        activity?.SetTag("events.compaction.inputs", inputs.Count);
        activity?.SetTag("events.compaction.rows", rows.Count);
        logger.LogInformation("Compacted {EventDate} generation {Generation}: {InputFiles} files into {OutputFiles}, {Rows} rows in {ElapsedMs} ms",
            LakeLayout.Day(day), generation, inputs.Count, outputs.Count, rows.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new CompactionResult(day, generation, inputs.Count, outputs.Count, rows.Count);
    }

    private async Task DeleteOutputsAsync(DateOnly day, List<string> outputs, CancellationToken cancellationToken)
    {
        foreach (var name in outputs) await lake.DeleteAsync(LakeLayout.EventsPartition(day) + name, cancellationToken);
    }

    /// <summary>
    /// Deletes replaced files a compaction left (it crashed between its switch and its deletes: a plain glob would see
    /// their events twice, so at once), and superseded manifests and never-switched outputs once the grace period has passed.
    /// </summary>
    public async Task DeleteReplacedAsync(EventsDayView view, DateTime nowUtc, CancellationToken cancellationToken)
    {
        if (view.Manifest is not { } manifest) return;
        var existing = view.Objects.ToDictionary(o => EventFileNames.FileName(o.Key), o => o.Key, StringComparer.Ordinal);
        foreach (var replaced in manifest.Replaced)
        {
            if (existing.TryGetValue(replaced.Name, out var key))
            {
                await lake.DeleteAsync(key, cancellationToken);
            }
        }
        if (manifest.CreatedUtc + Settings.ReplacedFileGrace > nowUtc) return;
        foreach (var (name, key) in existing)
        {
            if (EventFileNames.TryParseGeneration(name, EventFileNames.ManifestPrefix, out var g) && g < manifest.Generation)
            {
                await lake.DeleteAsync(key, cancellationToken);
            }
            else if (EventFileNames.TryParseGeneration(name, EventFileNames.CompactedPrefix, out g) && g <= manifest.Generation
                && !manifest.Live.Contains(name))
            {
                // An output of a compaction that crashed before its manifest, or lost the race for its generation:
                // never readable, safe to drop.
                await lake.DeleteAsync(key, cancellationToken);
            }
        }
    }

    /// <summary>customer_id, then event_timestamp, then event_id: the order queries by customer want.</summary>
    public static int CompareForLayout(LakeEvent a, LakeEvent b)
    {
        var c = a.CustomerId.CompareTo(b.CustomerId);
        if (c != 0) return c;
        c = a.EventTimestamp.CompareTo(b.EventTimestamp);
        return c != 0 ? c : string.CompareOrdinal(a.EventId, b.EventId);
    }

    private bool IsFull(LakeObject o) => !IsBatch(o.Key) && o.Size >= Settings.TargetFileBytes * 3 / 4;

    private static bool IsBatch(string key) => EventFileNames.FileName(key).StartsWith(EventFileNames.BatchPrefix, StringComparison.Ordinal);

    private static List<BatchFileName> BatchesOf(IEnumerable<LakeObject> objects) =>
        objects.Select(o => (Ok: EventFileNames.TryParseBatch(EventFileNames.FileName(o.Key), out var b), Batch: b))
            .Where(x => x.Ok).Select(x => x.Batch).ToList();
}
