using CustomerData.Contracts;
using CustomerData.Lake;

namespace CustomerData.Pipelines.Events.Replay;

/// <summary>What one replay did.</summary>
/// <param name="AlreadyReplayed">Records an earlier replay released (skipped).</param>
/// <param name="StillQuarantined">Records that still do not decode, by their reason now.</param>
/// <param name="UncommittedFiles">Malformed batch files the lake's positions do not hold yet (left for a later replay).</param>
public sealed record ReplayResult(int SourceFiles, int Records, int AlreadyReplayed, int Replayed, int OutputFiles,
    IReadOnlyDictionary<string, int> StillQuarantined, int UncommittedFiles)
{
    public override string ToString() =>
        $"{Replayed} records replayed into {OutputFiles} files, {AlreadyReplayed} replayed before, still quarantined: " +
        (StillQuarantined.Count == 0 ? "none" : string.Join(", ", StillQuarantined.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Value} {r.Key}"))) +
        $" ({Records} records in {SourceFiles} files read, {UncommittedFiles} uncommitted files left)";
}

/// <summary>
/// Re-decodes the malformed area (<c>events_malformed/</c>) with the current decoder and a fresh view of the schema
/// registry, after a decoder or schema fix. Records that decode now go into the events lake once: per source file,
/// event day and partition one file <see cref="EventFileNames.ReplayFile"/> named from its lowest offset, written
/// atomically like a batch file (the readers and the compactor take it as committed data), then recorded in the
/// <see cref="ReplayLedger"/>; records the ledger names are skipped, so a second replay writes nothing. A crash
/// between a file and its ledger entry is repaired by the next replay, which computes the same file (same name,
/// same bytes: the original ingestion time is kept) and overwrites it. The rest stay quarantined with their reason.
/// Only committed malformed files are read (held by the lake's positions, or compacted), so the consume loop can
/// never bring the same records back.
/// </summary>
public sealed partial class MalformedReplay(ILakeStorage lake, EventsOptions options, ILogger<MalformedReplay> logger)
{
    /// <param name="progress">A line and the share of source files done, after each file.</param>
    public async Task<ReplayResult> RunAsync(Action<string, double>? progress, CancellationToken cancellationToken)
    {
        using var activity = EventsTelemetry.Source.StartActivity("events.replay_malformed");
        var replayed = await ReplayLedger.ReadReplayedAsync(lake, cancellationToken);
        var positions = await PartitionPosition.ReadAllAsync(lake, cancellationToken);
        var sources = new List<(string Key, int Epoch)>();
        var uncommitted = 0;
        foreach (var o in await lake.ListAsync(LakeLayout.EventsMalformed + "/", cancellationToken))
        {
            var name = EventFileNames.FileName(o.Key);
            if (!EventFileNames.TryParseDay(o.Key, out _) || !name.EndsWith(EventFileNames.ParquetSuffix, StringComparison.Ordinal)) continue;
            if (EventFileNames.TryParseBatch(name, out var batch))
            {
                if (positions.TryGetValue((batch.Topic, batch.Partition), out var position) && position.Holds(batch)) sources.Add((o.Key, batch.Epoch));
                else uncommitted++;
            }
            else if (name.StartsWith(EventFileNames.CompactedPrefix, StringComparison.Ordinal))
            {
                // A compacted file holds committed records only; their epoch is not kept (see docs/events.md, "Replay").
                sources.Add((o.Key, 0));
            }
        }

        // A fresh registry client: the consume loop's cache still takes an id it could not find as unknown.
        using var schemas = WriterSchemaFactory.Create(options.SchemaRegistry);
        var seen = new HashSet<QuarantinedRecordId>();
        var stillBad = new Dictionary<string, int>(StringComparer.Ordinal);
        int records = 0, already = 0, released = 0, outputs = 0, done = 0;
        foreach (var (key, epoch) in sources)
        {
            // Gone meanwhile: the area's compaction replaced it, and its output is in the list or the next replay's.
            if (await lake.ReadAsync(key, cancellationToken) is { } bytes)
            {
                var groups = new SortedDictionary<(DateOnly Day, string Topic, int Partition), List<(MalformedEvent Record, LakeEvent Event)>>();
                foreach (var record in await EventParquet.ReadMalformedAsync(bytes, cancellationToken))
                {
                    records++;
                    var id = QuarantinedRecordId.Of(record);
                    if (replayed.Contains(id)) { already++; continue; }
                    if (!seen.Add(id)) continue; // also in a compaction's output seen in this listing
                    if (Decode(record, schemas, out var lakeEvent, out var reason))
                    {
                        var group = (lakeEvent.EventDate, record.Topic, record.Partition);
                        if (!groups.TryGetValue(group, out var list)) groups[group] = list = [];
                        list.Add((record, lakeEvent));
                    }
                    else
                    {
                        stillBad[reason] = stillBad.GetValueOrDefault(reason) + 1;
                    }
                }
                foreach (var ((day, topic, partition), list) in groups)
                {
                    await WriteAsync(key, epoch, day, topic, partition, list, cancellationToken);
                    released += list.Count;
                    outputs++;
                }
            }
            done++;
            progress?.Invoke($"{done}/{sources.Count} malformed files, {released} records replayed", (double)done / Math.Max(1, sources.Count));
        }
        var result = new ReplayResult(sources.Count, records, already, released, outputs, stillBad, uncommitted);
        activity?.SetTag("events.replay.replayed", released);
        activity?.SetTag("events.replay.still_quarantined", stillBad.Values.Sum());
        LogReplayed(result.ToString());
        return result;
    }

    /// <summary>Decodes a quarantined record as the consume loop would have; false with the reason it still fails.</summary>
    private static bool Decode(MalformedEvent record, WriterSchemas schemas, out LakeEvent lakeEvent, out string reason)
    {
        byte[] raw;
        try
        {
            raw = Convert.FromBase64String(record.RawBase64);
        }
        catch (FormatException)
        {
            lakeEvent = default;
            reason = MalformedReasons.Undecodable;
            return false;
        }
        // The area does not keep the key, only whether it was missing: a record set apart before the key check is taken as keyed.
        return CustomerEventDecoder.Decode(record.Reason != MalformedReasons.MissingKey, raw, record.KafkaTimestamp, record.IngestionTimestamp, schemas,
            out lakeEvent, out reason, out _) == CustomerEventDecoder.Outcome.Valid;
    }

    private async Task WriteAsync(string source, int epoch, DateOnly day, string topic, int partition,
        List<(MalformedEvent Record, LakeEvent Event)> list, CancellationToken cancellationToken)
    {
        var events = list.Select(x => x.Event).ToList();
        events.Sort(EventsCompactor.CompareForLayout);
        var name = EventFileNames.ReplayFile(topic, partition, list.Min(x => x.Record.Offset), epoch);
        var key = LakeLayout.EventsPartition(day) + name;
        var content = await EventParquet.WriteEventsAsync(events, options.Compaction.RowGroupRows,
            new Dictionary<string, string> { ["replayed_from"] = source }, cancellationToken);
        // The file first (atomic, as a batch file), then its ledger entry: a crash between leaves a file the next replay rewrites.
        await lake.PublishAsync(key, content, cancellationToken);
        await ReplayLedger.WriteAsync(lake, ReplayLedger.KeyOf(day, name),
            new ReplayLedgerEntry(key, source, DateTime.UtcNow, [.. list.Select(x => QuarantinedRecordId.Of(x.Record)).OrderBy(r => r.Offset)]), cancellationToken);
        LogWrote(key, list.Count, source);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Malformed replay wrote {Key}: {Records} records from {Source}")]
    private partial void LogWrote(string key, int records, string source);

    [LoggerMessage(Level = LogLevel.Information, Message = "Malformed replay done: {Result}")]
    private partial void LogReplayed(string result);
}
