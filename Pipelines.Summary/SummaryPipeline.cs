using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using CustomerData.Contracts;
using CustomerData.Lake;
using CustomerData.Contracts.Offsets;
using CustomerData.Pipelines.Common;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace CustomerData.Pipelines.Summary;

/// <summary>Progress of a rebuild: days done of the total and transactions aggregated so far.</summary>
public readonly record struct RebuildProgress(int DaysDone, int DaysTotal, long Transactions, TimeSpan Elapsed);

/// <summary>
/// Pipeline B: MySQL transactions → daily summary Parquet partitions in the lake.
/// A cycle reads the offset, scans the rows above it, recomputes every UTC day they touch (whole days,
/// aggregated in MySQL), publishes one file per day (<c>txn_summary/date=D/part-0.parquet</c>, replaced
/// atomically), reads each file back to verify it, and only then advances the offset. Everything before
/// the offset write is idempotent, so a crash anywhere followed by a rerun yields the same lake.
/// </summary>
public sealed class SummaryPipeline(
    MySqlDataSource dataSource,
    ILakeStorage lake,
    IOptions<SummaryOptions> options,
    SummaryTelemetry telemetry,
    ILogger<SummaryPipeline> logger,
    TimeProvider? timeProvider = null)
{
    /// <summary>Undated rejects are filed by txn_id block, so rewriting one is deterministic.</summary>
    public const long UndatedBlockSize = 100_000;

    /// <summary>A chunk of days published together closes at this many days or summary rows (memory bound).</summary>
    internal const int MaxDaysPerPublish = 256;
    internal const int MaxRowsPerPublish = 1_000_000;

    /// <summary>A run is cut into query lanes only when each lane gets at least this many days.</summary>
    internal const int MinDaysPerLane = 60;

    private readonly SummaryOptions _options = options.Value;
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly TxnOffsetStore _offsets = new(OffsetTable.Summary, options.Value.OffsetSource);
    private readonly TxnIdWatermark _watermark = new(options.Value.GracePeriod, timeProvider);

    /// <summary>Days per published chunk (<see cref="MaxDaysPerPublish"/>; tests use small chunks to cross chunk boundaries).</summary>
    internal int DaysPerPublish { get; set; } = MaxDaysPerPublish;

    /// <summary>Runs before each range query of a lane, with the range's first day (tests make one lane fail here).</summary>
    internal Func<DateOnly, CancellationToken, Task>? BeforeRangeQuery { get; set; }

    /// <summary>Runs after every partition is published and verified, just before the offset write (tests simulate a crash here).</summary>
    internal Func<CancellationToken, Task>? BeforeOffsetCommit { get; set; }

    /// <summary>One incremental cycle: the days touched by rows above the offset.</summary>
    public async Task<CycleResult> RunCycleAsync(CancellationToken cancellationToken = default)
    {
        await using var held = await LockAsync("cycle", cancellationToken);
        if (held is null) return CycleResult.Skipped;
        using var activity = SummaryTelemetry.ActivitySource.StartActivity("summary.cycle");
        var started = Stopwatch.GetTimestamp();
        var startedAt = _time.GetUtcNow().UtcDateTime;
        await using var connection = await SummarySource.OpenAsync(dataSource, cancellationToken);
        var offset = await _offsets.ReadAsync(connection, cancellationToken: cancellationToken);
        var scan = await SummarySource.ScanNewAsync(connection, offset, cancellationToken);
        telemetry.SetLag(scan.Count, scan.OldestTimestampUtc is { } oldest ? Math.Max(0, (_time.GetUtcNow().UtcDateTime - oldest).TotalSeconds) : 0);

        var plan = new Plan(Runs(scan.Days), null, AllUndated: false);
        var result = await ExecuteAsync(connection, offset, scan, plan, null, cancellationToken);
        Finish(activity, result, started);
        RecordQuality("incremental", startedAt, result, scan);
        return result;
    }

    /// <summary>
    /// Recomputes every day from <paramref name="from"/> (default: the first day with data) to the last,
    /// deletes partitions of that span that no longer have rows, then advances the offset like a cycle.
    /// </summary>
    public async Task<CycleResult> RebuildAsync(DateOnly? from = null, IProgress<RebuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        await using var held = await LockAsync("rebuild", cancellationToken);
        if (held is null) return CycleResult.Skipped;
        using var activity = SummaryTelemetry.ActivitySource.StartActivity("summary.rebuild");
        var started = Stopwatch.GetTimestamp();
        var startedAt = _time.GetUtcNow().UtcDateTime;
        await using var connection = await SummarySource.OpenAsync(dataSource, cancellationToken);
        var offset = await _offsets.ReadAsync(connection, cancellationToken: cancellationToken);
        // Taken before any day is aggregated: every id it returns is then included in the recomputed days.
        var scan = await SummarySource.ScanNewAsync(connection, offset, withDays: from is not null, cancellationToken);
        var range = await SummarySource.DayRangeAsync(connection, cancellationToken);

        var days = new SortedSet<DateOnly>();
        if (range is { } r)
        {
            var first = from ?? r.First;
            for (var d = first; d <= r.Last; d = d.AddDays(1)) days.Add(d);
        }
        // With --from, rows above the offset on earlier days still need their days recomputed.
        foreach (var d in scan.Days) days.Add(d);
        var plan = new Plan(Runs(days), from, AllUndated: from is null, Rebuild: true);
        var result = await ExecuteAsync(connection, offset, scan, plan, progress, cancellationToken);
        Finish(activity, result, started);
        RecordQuality("rebuild", startedAt, result, scan);
        return result;
    }

    /// <summary>
    /// Recomputes exactly the days <paramref name="from"/>..<paramref name="to"/> (the operator's backfill): the same
    /// repair path as a reconcile pass (days without rows lose their files, fingerprints are stored); the offset does not move.
    /// </summary>
    public async Task<CycleResult> RebuildDaysAsync(DateOnly from, DateOnly to, IProgress<RebuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        await using var held = await LockAsync("day-range rebuild", cancellationToken);
        if (held is null) return CycleResult.Skipped;
        using var activity = SummaryTelemetry.ActivitySource.StartActivity("summary.rebuild_days");
        activity?.SetTag("summary.from", LakeLayout.Day(from));
        activity?.SetTag("summary.to", LakeLayout.Day(to));
        var started = Stopwatch.GetTimestamp();
        await using var connection = await SummarySource.OpenAsync(dataSource, cancellationToken);
        var offset = await _offsets.ReadAsync(connection, cancellationToken: cancellationToken);
        var nothingNew = new NewTxnScan(0, offset, null, [], null, false);
        var result = await ExecuteAsync(connection, offset, nothingNew, new Plan([(from, to)], null, AllUndated: false), progress, cancellationToken);
        Finish(activity, result, started);
        return result;
    }

    /// <summary>
    /// The reconcile pass: one grouped scan of the source gives every day's fingerprint; the days whose fingerprint
    /// differs from the one stored when the day was written (late commits below the offset, UPDATEs, DELETEs) or
    /// that have files but no rows any more are recomputed, exactly those. The offset does not move.
    /// </summary>
    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken = default)
    {
        await using var held = await LockAsync("reconcile", cancellationToken);
        if (held is null) return new ReconcileResult(0, 0, TimeSpan.Zero, Skipped: true);
        using var activity = SummaryTelemetry.ActivitySource.StartActivity("summary.reconcile");
        var started = Stopwatch.GetTimestamp();
        await using var connection = await SummarySource.OpenAsync(dataSource, cancellationToken);
        var offset = await _offsets.ReadAsync(connection, cancellationToken: cancellationToken);
        var sourceClock = Stopwatch.StartNew();
        var source = await SummarySource.DayFingerprintsAsync(connection, cancellationToken);
        var sourceTime = sourceClock.Elapsed;
        var stored = await SummaryFingerprints.ReadAsync(lake, cancellationToken);

        var differ = new SortedSet<DateOnly>();
        foreach (var (day, fingerprint) in source)
        {
            if (stored.Get(day) != fingerprint.ToString()) differ.Add(day);
        }
        foreach (var day in stored.Days)
        {
            if (!source.ContainsKey(day)) differ.Add(day); // every row of the day deleted (or moved to another day)
        }
        if (!stored.Existed)
        {
            // A lake from before fingerprints: its files say nothing, so days with files but no rows are found by listing.
            foreach (var o in await lake.ListAsync(LakeLayout.SummaryTable + "/", cancellationToken))
            {
                if (LakeLayout.TryParseDay(o.Key, LakeLayout.SummaryPartitionKey, out var day) && !source.ContainsKey(day)) differ.Add(day);
            }
        }

        var repaired = 0;
        if (differ.Count > 0)
        {
            logger.LogInformation("Summary reconcile: {Days} of {SourceDays} days differ from the source; recomputing them (first {FirstDay})",
                differ.Count, source.Count, LakeLayout.Day(differ.Min));
            var nothingNew = new NewTxnScan(0, offset, null, [], null, false);
            var result = await ExecuteAsync(connection, offset, nothingNew, new Plan(Runs(differ), null, AllUndated: false), null, cancellationToken);
            repaired = differ.Count;
            telemetry.DaysRepaired.Add(repaired);
            activity?.SetTag("summary.days_rewritten", result.DaysRewritten);
        }
        telemetry.MarkReconciled(_time.GetUtcNow());
        var elapsed = Stopwatch.GetElapsedTime(started);
        activity?.SetTag("summary.reconcile.days_checked", source.Count);
        activity?.SetTag("summary.reconcile.days_repaired", repaired);
        logger.LogInformation("Summary reconcile done in {Seconds:F3} s ({SourceSeconds:F3} s source fingerprints): {Days} days checked, {Repaired} repaired",
            elapsed.TotalSeconds, sourceTime.TotalSeconds, source.Count, repaired);
        return new ReconcileResult(source.Count, repaired, sourceTime, Skipped: false);
    }

    /// <summary>The cross-process writer lock of this pipeline and source, or null (logged) when another instance kept it past <see cref="SummaryOptions.LockTimeout"/>.</summary>
    private async Task<SourceLock?> LockAsync(string work, CancellationToken cancellationToken)
    {
        var held = await SourceLock.TryAcquireAsync(dataSource, "summary", _options.OffsetSource, _options.LockTimeout, cancellationToken);
        if (held is null)
        {
            telemetry.LockSkips.Add(1);
            logger.LogWarning("Summary {Work} skipped: another instance holds the writer lock of source {Source} (waited {WaitSeconds} s)",
                work, _options.OffsetSource, _options.LockTimeout.TotalSeconds);
        }
        return held;
    }

    /// <summary>The cycle's checks into <c>/quality</c> and the <c>quality.*</c> metrics (the same rejects as <c>summary.rejects</c>: first seen above the offset).</summary>
    private void RecordQuality(string kind, DateTime startedAt, CycleResult result, NewTxnScan scan)
    {
        var rejects = result.RejectedByReason.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new Contracts.Quality.QualityReasonCount(kv.Key, kv.Value, result.RejectSamples.GetValueOrDefault(kv.Key) ?? []))
            .ToList();
        telemetry.Quality.Record(new Contracts.Quality.QualityCycle(kind, startedAt, _time.GetUtcNow().UtcDateTime, true, result.RowsRead,
            rejects, [], scan.NewestTimestampUtc, scan.Count));
    }

    private void Finish(Activity? activity, CycleResult result, long started)
    {
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        telemetry.CycleDuration.Record(seconds);
        activity?.SetTag("summary.rows_read", result.RowsRead);
        activity?.SetTag("summary.transactions_aggregated", result.TransactionsAggregated);
        activity?.SetTag("summary.days_rewritten", result.DaysRewritten);
        activity?.SetTag("summary.days_deleted", result.DaysDeleted);
        activity?.SetTag("summary.rejects", result.Rejected);
        activity?.SetTag("summary.offset.before", result.OffsetBefore);
        activity?.SetTag("summary.offset.after", result.OffsetAfter);
        logger.LogInformation(
            "Summary cycle done in {Seconds:F3} s: {RowsRead} new rows, {TransactionsAggregated} transactions aggregated, {DaysRewritten} days rewritten, {DaysDeleted} deleted, {Rejected} rejected, offset {OffsetBefore} -> {OffsetAfter}",
            seconds, result.RowsRead, result.TransactionsAggregated, result.DaysRewritten, result.DaysDeleted, result.Rejected, result.OffsetBefore, result.OffsetAfter);
    }

    /// <param name="Runs">Runs of consecutive days to recompute.</param>
    /// <param name="StaleFrom">Rebuild with --from: existing partitions on or after this day that were not rewritten are deleted.</param>
    /// <param name="AllUndated">Full rebuild: every partition not rewritten is deleted and every undated-rejects block rewritten (not only those above the offset).</param>
    /// <param name="Rebuild">A rebuild: the stored fingerprints of the days it owns (on/after StaleFrom, or all) are dropped first.</param>
    private sealed record Plan(IReadOnlyList<(DateOnly First, DateOnly Last)> Runs, DateOnly? StaleFrom, bool AllUndated, bool Rebuild = false);

    private sealed record DayWork(DateOnly Day, List<DailySummary> Summaries, List<RejectedTxn> Rejects, DayFingerprint Fingerprint);

    /// <summary>What one execution has done so far: files written, rejects seen, counts (shared by the lanes and the writer).</summary>
    private sealed class RunState(long offset)
    {
        public readonly ConcurrentDictionary<string, byte> Written = new(StringComparer.Ordinal);
        public readonly ConcurrentDictionary<string, ConcurrentBag<RejectedTxn>> NewRejects = new(StringComparer.Ordinal);
        public long Rows;
        public long DaysRewritten;
        public long DaysDeleted;
        public long Rejected;

        /// <summary>Counts every reject; those above the offset (first seen) are also reported and put on the metric.</summary>
        public void Tally(IEnumerable<RejectedTxn> rejects)
        {
            foreach (var r in rejects)
            {
                Interlocked.Increment(ref Rejected);
                if (r.TxnId > offset) NewRejects.GetOrAdd(r.Reason, _ => []).Add(r);
            }
        }
    }

    /// <summary>Recomputes the plan's days, then finishes like every cycle: undated rejects, stale partitions, fingerprints, report, offset.</summary>
    private async Task<CycleResult> ExecuteAsync(MySqlConnection connection, long offset, NewTxnScan scan, Plan plan, IProgress<RebuildProgress>? progress, CancellationToken cancellationToken)
    {
        var totalDays = plan.Runs.Sum(r => r.Last.DayNumber - r.First.DayNumber + 1);
        var existing = await ListExistingAsync(totalDays, scan, plan, cancellationToken);
        // Read before any day is written and stored after the last one: a crash between leaves older fingerprints, and
        // the next reconcile pass recomputes those days again (harmless), never the reverse.
        SummaryFingerprints? fingerprints = null;
        if (totalDays > 0 || plan.Rebuild)
        {
            fingerprints = await SummaryFingerprints.ReadAsync(lake, cancellationToken);
            if (plan.Rebuild) fingerprints.Clear(plan.StaleFrom);
        }
        var run = new RunState(offset);

        await AggregateAndPublishDaysAsync(connection, plan, totalDays, existing, fingerprints, run, progress, cancellationToken);
        await WriteUndatedRejectsAsync(connection, offset, scan, plan, run, cancellationToken);
        await DeleteStalePartitionsAsync(plan, existing, run, cancellationToken);
        if (fingerprints is not null) await fingerprints.WriteAsync(lake, cancellationToken);
        var (byReason, samples) = ReportRejects(run);
        // Only now, with every partition published and verified, may the offset move.
        var (stored, pending, expired) = await CommitOffsetAsync(connection, offset, scan, cancellationToken);

        telemetry.RowsRead.Add(scan.Count);
        telemetry.DaysRewritten.Add(run.DaysRewritten);
        return new CycleResult(offset, stored, scan.Count, run.Rows, (int)run.DaysRewritten, (int)run.DaysDeleted, run.Rejected, byReason, pending, expired)
        {
            RejectSamples = samples,
        };
    }

    /// <summary>The summary and rejects objects now in the lake (only listed when the plan can replace or delete any).</summary>
    private async Task<HashSet<string>> ListExistingAsync(int totalDays, NewTxnScan scan, Plan plan, CancellationToken cancellationToken)
    {
        if (totalDays == 0 && !scan.HasUndated && plan.StaleFrom is null && !plan.AllUndated) return [];
        return (await lake.ListAsync(LakeLayout.SummaryTable + "/", cancellationToken))
            .Concat(await lake.ListAsync(LakeLayout.SummaryRejects + "/", cancellationToken))
            .Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The plan's days: aggregated in query lanes (each over its own connection, the first over the cycle's), streamed
    /// through a small buffer into chunks that are published and verified while the next chunk fills.
    /// </summary>
    private async Task AggregateAndPublishDaysAsync(MySqlConnection connection, Plan plan, int totalDays, HashSet<string> existing,
        SummaryFingerprints? fingerprints, RunState run, IProgress<RebuildProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A small buffer: the chunk loop below drains it into the next chunk while the previous one is written.
        var channel = Channel.CreateBounded<DayWork>(new BoundedChannelOptions(64) { SingleReader = true });
        var done = 0;
        // The first failure of a lane or of a chunk write: it stops everything else (cts) and is the error reported.
        Exception? firstError = null;
        void Fail(Exception ex)
        {
            if (ex is OperationCanceledException && cts.IsCancellationRequested) return; // stopped because of another failure
            Interlocked.CompareExchange(ref firstError, ex, null);
            cts.Cancel();
        }

        // Each lane aggregates its ranges over its own connection (the first lane over the cycle's): MySQL runs one
        // query per core instead of one in all, and the writer below takes days in any order.
        async Task AggregateLaneAsync(IReadOnlyList<(DateOnly First, DateOnly Last)> ranges, bool ownConnection)
        {
            MySqlConnection? laneConnection = null;
            MySqlConnection? details = null;
            try
            {
                laneConnection = ownConnection ? await SummarySource.OpenAsync(dataSource, cts.Token) : connection;
                foreach (var range in ranges)
                {
                    if (BeforeRangeQuery is { } hook) await hook(range.First, cts.Token);
                    await foreach (var a in SummarySource.AggregateRangeAsync(laneConnection, range.First, range.Last, cts.Token))
                    {
                        var rejects = new List<RejectedTxn>();
                        if (a.RejectedCount > 0)
                        {
                            // The range reader holds the lane's connection; the day's rejected rows come over a second one.
                            details ??= await SummarySource.OpenAsync(dataSource, cts.Token);
                            rejects = await SummarySource.RejectedOnDayAsync(details, a.Day, cts.Token);
                            if (a.OverflowCustomers.Count > 0)
                            {
                                rejects.AddRange(await SummarySource.OverflowRowsAsync(details, a.Day, a.OverflowCustomers, cts.Token));
                                rejects.Sort((x, y) => x.TxnId.CompareTo(y.TxnId));
                            }
                        }
                        Interlocked.Add(ref run.Rows, a.Summaries.Sum(s => s.TxnCount) + rejects.Count);
                        await channel.Writer.WriteAsync(new DayWork(a.Day, a.Summaries, rejects, a.Fingerprint), cts.Token);
                        var doneNow = Interlocked.Increment(ref done);
                        if (doneNow % 100 == 0 || doneNow == totalDays) progress?.Report(new RebuildProgress(doneNow, totalDays, Interlocked.Read(ref run.Rows), clock.Elapsed));
                    }
                }
            }
            catch (Exception ex)
            {
                Fail(ex);
                throw;
            }
            finally
            {
                if (details is not null) await details.DisposeAsync();
                if (ownConnection && laneConnection is not null) await laneConnection.DisposeAsync();
            }
        }

        var lanes = QueryLanes(plan.Runs, _options.QueryParallelism);
        var producer = Task.Run(async () =>
        {
            try
            {
                await Task.WhenAll(lanes.Select((ranges, i) => AggregateLaneAsync(ranges, ownConnection: i > 0)));
                channel.Writer.Complete();
            }
            catch (Exception ex)
            {
                channel.Writer.Complete(Volatile.Read(ref firstError) ?? ex);
            }
        }, CancellationToken.None);

        (Task<(long Rewrote, long Deleted)> Task, List<DayWork> Days)? writing = null;
        void StartChunk(List<DayWork> days) => writing = (WriteChunkAsync(days), days);
        async Task<(long Rewrote, long Deleted)> WriteChunkAsync(List<DayWork> days)
        {
            try
            {
                return await WriteDaysAsync(days, existing, run.Written, cts.Token);
            }
            catch (Exception ex)
            {
                Fail(ex);
                throw;
            }
        }
        async Task FinishChunkAsync()
        {
            if (writing is not { } w) return;
            writing = null;
            var (rewrote, deleted) = await w.Task;
            run.DaysRewritten += rewrote;
            run.DaysDeleted += deleted;
            foreach (var work in w.Days)
            {
                run.Tally(work.Rejects);
                fingerprints?.Set(work.Day, work.Fingerprint);
            }
        }

        try
        {
            // Days are published in chunks, so the local lake flushes the disk twice per chunk rather than twice per
            // file. One chunk is written while the next one fills from the query's stream.
            var chunk = new List<DayWork>(DaysPerPublish);
            var summaryRows = 0;
            while (await channel.Reader.WaitToReadAsync(cts.Token))
            {
                while (chunk.Count < DaysPerPublish && summaryRows < MaxRowsPerPublish && channel.Reader.TryRead(out var work))
                {
                    chunk.Add(work);
                    summaryRows += work.Summaries.Count;
                }
                // Wait for a fuller chunk unless the query is done (Completion) or the chunk is full.
                if (chunk.Count < DaysPerPublish && summaryRows < MaxRowsPerPublish && !channel.Reader.Completion.IsCompleted) continue;
                await FinishChunkAsync();
                StartChunk(chunk);
                chunk = new List<DayWork>(DaysPerPublish);
                summaryRows = 0;
            }
            await FinishChunkAsync();
            if (chunk.Count > 0)
            {
                StartChunk(chunk);
                await FinishChunkAsync();
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && Volatile.Read(ref firstError) is { } first)
        {
            // Cancelled only because a lane or a chunk write failed: report that failure, not the cancellation.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
        finally
        {
            await cts.CancelAsync();
            await producer;
            // A chunk still being written when something else failed: let it stop (its error, if any, is in firstError).
            if (writing is { } orphan) await orphan.Task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Rows without a valid timestamp have no day: their rejects report lives in txn_id blocks, each rewritten whole.</summary>
    private async Task WriteUndatedRejectsAsync(MySqlConnection connection, long offset, NewTxnScan scan, Plan plan, RunState run, CancellationToken cancellationToken)
    {
        if (!plan.AllUndated && !scan.HasUndated) return;
        var blocks = await SummarySource.UndatedBlocksAsync(connection, plan.AllUndated ? 0 : offset, UndatedBlockSize, cancellationToken);
        foreach (var block in blocks)
        {
            var ids = await SummarySource.UndatedIdsAsync(connection, block * UndatedBlockSize, (block + 1) * UndatedBlockSize - 1, cancellationToken);
            var details = await SummarySource.RejectedDetailsAsync(connection, ids.Select(id => (id, RejectReasons.InvalidTimestamp)).ToList(), cancellationToken);
            var key = LakeLayout.SummaryUndatedRejectsFile(block);
            await PublishRejectsAsync(key, details, cancellationToken);
            run.Written[key] = 0;
            run.Rows += details.Count;
            run.Tally(details);
        }
    }

    /// <summary>A rebuild owns its span: partitions there that it did not rewrite have no rows any more.</summary>
    private async Task DeleteStalePartitionsAsync(Plan plan, HashSet<string> existing, RunState run, CancellationToken cancellationToken)
    {
        if (plan.StaleFrom is null && !plan.AllUndated) return;
        foreach (var key in existing.Where(k => !run.Written.ContainsKey(k) && IsStale(k, plan.StaleFrom, plan.AllUndated)))
        {
            await lake.DeleteAsync(key, cancellationToken);
            if (key.StartsWith(LakeLayout.SummaryTable + "/", StringComparison.Ordinal)) run.DaysDeleted++;
        }
    }

    /// <summary>Counts and logs the rejects first seen above the offset, by reason, with a sample.</summary>
    private (Dictionary<string, long> ByReason, Dictionary<string, IReadOnlyList<string>> Samples) ReportRejects(RunState run)
    {
        var samples = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (reason, list) in run.NewRejects)
        {
            telemetry.Rejects.Add(list.Count, new KeyValuePair<string, object?>("reason", reason));
            var sample = list.OrderBy(r => r.TxnId).Take(_options.RejectSampleSize)
                .Select(r => $"txn_id={r.TxnId} customer_id={r.CustomerId?.ToString(CultureInfo.InvariantCulture) ?? "null"} product_id={r.ProductId?.ToString(CultureInfo.InvariantCulture) ?? "null"} qty={r.Qty?.ToString(CultureInfo.InvariantCulture) ?? "null"} amount={r.Amount?.ToString(CultureInfo.InvariantCulture) ?? "null"} txn_timestamp={r.TxnTimestamp ?? "null"}")
                .ToArray();
            samples[reason] = sample;
            logger.LogWarning("Data quality: {Count} transactions rejected for {Reason}, kept out of the summaries and written to {RejectsTable}; sample {Sample}",
                list.Count, reason, LakeLayout.SummaryRejects, sample);
        }
        return (run.NewRejects.ToDictionary(kv => kv.Key, kv => (long)kv.Value.Count, StringComparer.Ordinal), samples);
    }

    /// <summary>Moves the offset as far as the watermark allows; returns the offset now stored and the gap ids pending and passed over.</summary>
    private async Task<(long Stored, long Pending, long Expired)> CommitOffsetAsync(MySqlConnection connection, long offset, NewTxnScan scan, CancellationToken cancellationToken)
    {
        var (newOffset, pending, expired) = Advance(offset, scan);
        if (BeforeOffsetCommit is { } hook) await hook(cancellationToken);
        var stored = newOffset > offset ? await _offsets.AdvanceAsync(connection, newOffset, cancellationToken: cancellationToken) : offset;
        return (stored, pending, expired);
    }

    private (long Offset, long PendingIds, long ExpiredIds) Advance(long offset, NewTxnScan scan)
    {
        if (scan.Count == 0) return (offset, 0, 0);
        if (scan.Ids is null) return (scan.MaxId, 0, 0); // contiguous
        var advance = OffsetAdvance.Advance(_watermark, offset, scan.Ids, "Summary", logger);
        var expiredIds = advance.ExpiredGaps.Sum(g => g.Count);
        if (expiredIds > 0) telemetry.ExpiredGapIds.Add(expiredIds);
        return (advance.Offset, advance.PendingGaps.Sum(g => g.Count), expiredIds);
    }

    /// <summary>
    /// Publishes a chunk of days: every day's summary file (and rejects report) encoded, published in one
    /// <see cref="ILakeStorage.PublishAllAsync"/>, then each read back from the lake and verified; days left
    /// without valid rows (or rejects) lose their file.
    /// </summary>
    private async Task<(long Rewrote, long Deleted)> WriteDaysAsync(List<DayWork> chunk, HashSet<string> existing, ConcurrentDictionary<string, byte> written, CancellationToken cancellationToken)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.WriteParallelism), CancellationToken = cancellationToken };
        var files = new (LakeWrite Summary, LakeWrite Rejects)[chunk.Count];
        await Parallel.ForAsync(0, chunk.Count, parallel, async (i, ct) =>
        {
            var work = chunk[i];
            files[i] = (
                work.Summaries.Count > 0 ? new LakeWrite(LakeLayout.SummaryFile(work.Day), await SummaryParquet.WriteAsync(work.Summaries, _options.Compression, ct)) : default,
                work.Rejects.Count > 0 ? new LakeWrite(LakeLayout.SummaryRejectsFile(work.Day), await SummaryParquet.WriteRejectsAsync(work.Rejects, _options.Compression, ct)) : default);
        });
        await lake.PublishAllAsync([.. files.Select(f => f.Summary).Concat(files.Select(f => f.Rejects)).Where(w => w.Key is not null)], cancellationToken);

        await Parallel.ForAsync(0, chunk.Count, parallel, async (i, ct) =>
        {
            var (summary, rejects) = files[i];
            if (summary.Key is not null)
            {
                var back = await lake.ReadAsync(summary.Key, ct) ?? throw new LakeVerificationException($"{summary.Key}: not found right after publishing.");
                SummaryParquet.Verify(await SummaryParquet.ReadAsync(back, ct), chunk[i].Summaries, summary.Key);
                written[summary.Key] = 0;
            }
            if (rejects.Key is not null)
            {
                await VerifyRejectsAsync(rejects.Key, chunk[i].Rejects, ct);
                written[rejects.Key] = 0;
            }
        });

        long rewrote = 0, deleted = 0;
        foreach (var (work, (summary, rejects)) in chunk.Zip(files))
        {
            if (summary.Key is not null) rewrote++;
            else if (existing.Contains(LakeLayout.SummaryFile(work.Day)))
            {
                await lake.DeleteAsync(LakeLayout.SummaryFile(work.Day), cancellationToken); // the day lost all its valid rows
                deleted++;
            }
            if (rejects.Key is null && existing.Contains(LakeLayout.SummaryRejectsFile(work.Day))) await lake.DeleteAsync(LakeLayout.SummaryRejectsFile(work.Day), cancellationToken);
        }
        return (rewrote, deleted);
    }

    private async Task PublishRejectsAsync(string key, IReadOnlyList<RejectedTxn> rejects, CancellationToken cancellationToken)
    {
        var bytes = await SummaryParquet.WriteRejectsAsync(rejects, _options.Compression, cancellationToken);
        await lake.PublishAsync(key, bytes, cancellationToken);
        await VerifyRejectsAsync(key, rejects, cancellationToken);
    }

    private async Task VerifyRejectsAsync(string key, IReadOnlyList<RejectedTxn> rejects, CancellationToken cancellationToken)
    {
        var back = await lake.ReadAsync(key, cancellationToken) ?? throw new LakeVerificationException($"{key}: not found right after publishing.");
        var ids = await SummaryParquet.ReadRejectIdsAsync(back, cancellationToken);
        if (!ids.SequenceEqual(rejects.Select(r => r.TxnId)))
        {
            throw new LakeVerificationException($"{key}: rejects read back ({ids.Length} rows) differ from those written ({rejects.Count}).");
        }
    }

    /// <summary>Is <paramref name="key"/> a partition file the rebuild owns (on/after <paramref name="from"/>, or undated on a full rebuild)?</summary>
    private static bool IsStale(string key, DateOnly? from, bool allUndated)
    {
        if (!LakeLayout.TryParsePartitionValue(key, LakeLayout.SummaryPartitionKey, out var value)) return false;
        if (value == LakeLayout.UndatedPartition) return allUndated;
        if (!LakeLayout.TryParseDay(key, LakeLayout.SummaryPartitionKey, out var day)) return false;
        return from is null || day >= from.Value;
    }

    /// <summary>
    /// Splits the runs over up to <paramref name="parallelism"/> query lanes of about equal days. Only when there are
    /// at least two lanes' worth of days (<see cref="MinDaysPerLane"/> each), and only long runs are cut: a short range
    /// costs more in a second connection and query than it saves. Every day of the runs is in exactly one lane.
    /// </summary>
    internal static List<List<(DateOnly First, DateOnly Last)>> QueryLanes(IReadOnlyList<(DateOnly First, DateOnly Last)> runs, int parallelism)
    {
        // A cycle over a few short runs (late rows on an old day plus today) stays on one connection.
        if (runs.Sum(r => r.Last.DayNumber - r.First.DayNumber + 1) < 2 * MinDaysPerLane) parallelism = 1;
        var ranges = new List<(DateOnly First, DateOnly Last)>();
        foreach (var (first, last) in runs)
        {
            var days = last.DayNumber - first.DayNumber + 1;
            var parts = Math.Clamp(days / MinDaysPerLane, 1, Math.Max(1, parallelism));
            for (var p = 0; p < parts; p++)
            {
                var start = first.AddDays((int)((long)days * p / parts));
                var end = first.AddDays((int)((long)days * (p + 1) / parts) - 1);
                ranges.Add((start, end));
            }
        }
        var lanes = Enumerable.Range(0, Math.Max(1, Math.Min(parallelism, ranges.Count))).Select(_ => new List<(DateOnly First, DateOnly Last)>()).ToList();
        var load = new long[lanes.Count];
        // Longest first onto the least loaded lane.
        foreach (var range in ranges.OrderByDescending(r => r.Last.DayNumber - r.First.DayNumber))
        {
            var lane = Array.IndexOf(load, load.Min());
            lanes[lane].Add(range);
            load[lane] += range.Last.DayNumber - range.First.DayNumber + 1;
        }
        foreach (var lane in lanes) lane.Sort((a, b) => a.First.CompareTo(b.First));
        return lanes;
    }

    /// <summary>Consecutive days grouped into runs, so each run is one range query.</summary>
    internal static List<(DateOnly First, DateOnly Last)> Runs(IEnumerable<DateOnly> sortedDays)
    {
        var runs = new List<(DateOnly, DateOnly)>();
        foreach (var d in sortedDays)
        {
            if (runs.Count > 0 && runs[^1].Item2.AddDays(1) == d) runs[^1] = (runs[^1].Item1, d);
            else runs.Add((d, d));
        }
        return runs;
    }
}
