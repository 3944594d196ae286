using System.Diagnostics;
using CustomerData.Contracts.Offsets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Profile;

public enum CycleMode
{
    /// <summary>Only the customers touched by transactions above the offset.</summary>
    Incremental,

    /// <summary>Every customer with transactions, whatever the offset.</summary>
    Rebuild,
}

/// <summary>What one cycle did.</summary>
public sealed record CycleResult(
    CycleMode Mode,
    bool Succeeded,
    long OffsetBefore,
    long OffsetAfter,
    int ProfilesWritten,
    DataQualityReport Report,
    IReadOnlyList<TxnIdGap> PendingGaps,
    IReadOnlyList<TxnIdGap> ExpiredGaps,
    TimeSpan Duration,
    Exception? Error,
    bool Skipped = false);

/// <summary>What a reconcile pass did: buckets compared, buckets that differed, customers recomputed, the source query's time.</summary>
public sealed record ReconcileResult(int BucketsChecked, int BucketsRepaired, int CustomersRepaired, TimeSpan SourceTime, bool Skipped);

/// <summary>
/// One cycle of Pipeline A: offset → delta → aggregation in MySQL → checks → upserts → offset.
/// The offset moves only after every profile of the cycle is written (and verified when configured),
/// and only as far as <see cref="TxnIdWatermark"/> allows; any failure leaves it where it was, so the
/// next cycle redoes the same customers (upserts are idempotent).
/// </summary>
public sealed class ProfileCycleRunner(
    MySqlProfileSource source,
    IProfileStore store,
    IOptions<ProfileOptions> options,
    ProfileCycleState state,
    TimeProvider time,
    ILogger<ProfileCycleRunner> logger)
{
    private readonly ProfileOptions _options = options.Value;
    private readonly TxnIdWatermark _watermark = new(options.Value.GapGracePeriod, time);
    private readonly TxnOffsetStore _offsets = new(OffsetTable.Profile, options.Value.OffsetSource);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private bool _storeReady;
    private bool _indexReady;

    /// <summary>Test hook: runs after the upserts and before the offset moves (a crash there is what it simulates).</summary>
    internal Func<CancellationToken, Task>? BeforeOffsetAdvance { get; set; }

    public async Task<CycleResult> RunCycleAsync(CycleMode mode, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            await using var held = await LockAsync(mode == CycleMode.Rebuild ? "rebuild" : "cycle", cancellationToken);
            if (held is null) return new CycleResult(mode, false, -1, -1, 0, new DataQualityReport(_options.SamplesPerReason), [], [], TimeSpan.Zero, null, Skipped: true);
            return await RunExclusiveAsync(mode, cancellationToken);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task<CustomerData.Pipelines.Common.SourceLock?> LockAsync(string work, CancellationToken cancellationToken)
    {
        var held = await source.TryLockAsync(_options.OffsetSource, _options.LockTimeout, cancellationToken);
        if (held is null)
        {
            ProfileTelemetry.LockSkips.Add(1);
            logger.LogWarning("Profile {Work} skipped: another instance holds the writer lock of source {Source} (waited {WaitSeconds} s)",
                work, _options.OffsetSource, _options.LockTimeout.TotalSeconds);
        }
        return held;
    }

    /// <summary>
    /// The reconcile pass: one grouped scan gives each customer bucket's fingerprint over the rows up to the stored
    /// bound; buckets that differ from the stored fingerprints (late commits below the offset, UPDATEs, DELETEs) are
    /// recomputed whole, profiles of customers left without transactions deleted. The offset does not move.
    /// </summary>
    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            await using var held = await LockAsync("reconcile", cancellationToken);
            if (held is null) return new ReconcileResult(0, 0, 0, TimeSpan.Zero, Skipped: true);
            return await ReconcileExclusiveAsync(cancellationToken);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task<ReconcileResult> ReconcileExclusiveAsync(CancellationToken cancellationToken)
    {
        using var activity = ProfileTelemetry.Source.StartActivity("profile.reconcile");
        var stopwatch = Stopwatch.StartNew();
        await EnsureReadyAsync(cancellationToken);
        var size = _options.Reconcile.BucketSize;
        var state = await store.ReadFingerprintsAsync(cancellationToken);
        // No state yet: everything up to now is checked (and recomputed once).
        var upTo = state?.UpTo ?? await source.MaxTxnIdAsync(cancellationToken);
        var stored = state?.Buckets ?? [];
        var sourceClock = Stopwatch.StartNew();
        var current = await source.BucketFingerprintsAsync(upTo, null, cancellationToken);
        var sourceTime = sourceClock.Elapsed;
        var differ = current.Where(kv => !stored.TryGetValue(kv.Key, out var s) || s != kv.Value).Select(kv => kv.Key)
            .Concat(stored.Keys.Where(b => !current.ContainsKey(b))).Distinct().Order().ToList();

        var customers = 0;
        if (differ.Count > 0)
        {
            logger.LogInformation("Profile reconcile: {Buckets} of {AllBuckets} customer buckets differ from the source; recomputing them", differ.Count, current.Count);
            // Taken before the aggregation: a change after it makes the bucket differ again, so it is never lost.
            var fresh = await source.BucketFingerprintsAsync(upTo, differ, cancellationToken);
            var ids = differ.SelectMany(b => Enumerable.Range(0, size).Select(i => (long)b * size + i)).Where(id => id is > 0 and <= int.MaxValue).Select(id => (int)id).ToList();
            var report = new DataQualityReport(_options.SamplesPerReason);
            var aggregates = await source.AggregateCustomersAsync(ids, cancellationToken);
            var rows = await source.ReadCustomersAsync(aggregates.Keys.ToList(), cancellationToken);
            var profiles = BuildProfiles(aggregates, rows, report);
            if (profiles.Count > 0) await store.WriteAsync(profiles, null, cancellationToken);
            var kept = profiles.Select(p => p.CustomerId).ToHashSet();
            await store.DeleteAsync(ids.Where(id => !kept.Contains(id)).ToList(), cancellationToken);
            await store.WriteFingerprintsAsync(differ.ToDictionary(b => b, b => fresh.TryGetValue(b, out var f) ? f : (BucketFingerprint?)null), upTo, cancellationToken);
            report.Log(logger);
            customers = aggregates.Count;
            ProfileTelemetry.CustomersRepaired.Add(customers);
        }
        else if (state is null)
        {
            await store.WriteFingerprintsAsync(new Dictionary<int, BucketFingerprint?>(), upTo, cancellationToken);
        }
        ProfileTelemetry.MarkReconciled(time.GetUtcNow());
        activity?.SetTag("profile.reconcile.buckets_repaired", differ.Count);
        logger.LogInformation("Profile reconcile done in {ElapsedMs} ms ({SourceMs} ms source fingerprints): {Buckets} buckets checked, {Repaired} repaired, {Customers} customers recomputed",
            stopwatch.ElapsedMilliseconds, (long)sourceTime.TotalMilliseconds, current.Count, differ.Count, customers);
        return new ReconcileResult(current.Count, differ.Count, customers, sourceTime, Skipped: false);
    }

    /// <summary>
    /// The cycle's fingerprint bookkeeping, never fatal to it: any failure leaves stored fingerprints that disagree with
    /// the source (missing rows, double-counted rows or none at all), so the reconcile pass recomputes those buckets.
    /// </summary>
    private async Task<T?> TryFingerprintsAsync<T>(Func<Task<T>> work) where T : class?
    {
        try
        {
            return await work();
        }
        catch (Exception ex) when (CassandraProfileStore.IsTransient(ex))
        {
            logger.LogWarning("Reconcile fingerprints not updated ({ErrorType}); the next reconcile pass recomputes the buckets concerned", ex.GetType().Name);
            return null;
        }
    }

    private async Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        if (!_storeReady)
        {
            await store.VerifySchemaAsync(cancellationToken);
            _storeReady = true;
        }
    }

    private async Task<CycleResult> RunExclusiveAsync(CycleMode mode, CancellationToken cancellationToken)
    {
        var modeName = mode == CycleMode.Rebuild ? "rebuild" : "incremental";
        using var activity = ProfileTelemetry.Source.StartActivity("profile.cycle");
        activity?.SetTag("profile.mode", modeName);
        var stopwatch = Stopwatch.StartNew();
        var startedAt = time.GetUtcNow().UtcDateTime;
        var report = new DataQualityReport(_options.SamplesPerReason);
        List<CustomerProfile> profiles = [];
        long offsetBefore = -1;
        try
        {
            // The schema is the Migrations project's; a missing table fails the cycle with a message naming it.
            await EnsureReadyAsync(cancellationToken);

            await using var connection = await source.OpenAsync(cancellationToken);
            await MySqlProfileSource.VerifySchemaAsync(connection, cancellationToken);
            if (!_indexReady)
            {
                await source.EnsureCoveringIndexAsync(cancellationToken);
                _indexReady = true;
            }
            offsetBefore = await _offsets.ReadAsync(connection, cancellationToken: cancellationToken);
            // The fingerprints the profiles were computed from: an incremental cycle adds its rows' to them (read in the
            // delta's snapshot); a rebuild replaces them all, taken before it aggregates.
            var fingerprints = await TryFingerprintsAsync(() => store.ReadFingerprintsAsync(cancellationToken));
            var delta = await MySqlProfileSource.ReadDeltaAsync(connection, offsetBefore, withCustomers: mode == CycleMode.Incremental, report,
                mode == CycleMode.Incremental && fingerprints is not null ? new FingerprintRequest(_options.Reconcile.BucketSize, fingerprints.UpTo) : null, cancellationToken);
            Dictionary<int, BucketFingerprint>? rebuildFingerprints = null;
            var rebuildUpTo = 0L;
            if (mode == CycleMode.Rebuild)
            {
                rebuildUpTo = delta.TxnIds.Count > 0 ? Math.Max(offsetBefore, delta.TxnIds[^1]) : offsetBefore;
                rebuildFingerprints = await source.BucketFingerprintsAsync(rebuildUpTo, null, cancellationToken);
            }
            state.RecordBacklog(delta.TxnIds.Count);
            report.AddChecked(delta.TxnIds.Count);
            activity?.SetTag("profile.offset.before", offsetBefore);
            activity?.SetTag("profile.delta.transactions", delta.TxnIds.Count);
            if (mode == CycleMode.Rebuild)
            {
                logger.LogInformation("Profile rebuild: offset {Offset}, {Transactions} transaction(s) above it; recomputing every customer",
                    offsetBefore, delta.TxnIds.Count);
            }
            else
            {
                logger.LogInformation("Profile incremental cycle: offset {Offset}, {Transactions} new transaction(s) touching {Customers} customer(s)",
                    offsetBefore, delta.TxnIds.Count, delta.Customers.Count);
            }

            profiles = mode == CycleMode.Rebuild
                ? await ComputeAllAsync(report, cancellationToken)
                : await ComputeTouchedAsync(delta, report, cancellationToken);

            if (profiles.Count > 0)
            {
                var lastLogged = 0;
                await store.WriteAsync(profiles, written =>
                {
                    if (mode == CycleMode.Rebuild && written - lastLogged >= Math.Max(1, profiles.Count / 10))
                    {
                        lastLogged = written;
                        logger.LogInformation("Rebuild progress: {Written}/{Total} profiles written", written, profiles.Count);
                    }
                }, cancellationToken);
            }
            ProfileTelemetry.CustomersUpdated.Add(profiles.Count);

            if (rebuildFingerprints is not null)
            {
                var all = rebuildFingerprints.ToDictionary(kv => kv.Key, kv => (BucketFingerprint?)kv.Value);
                foreach (var gone in fingerprints?.Buckets.Keys ?? Enumerable.Empty<int>()) all.TryAdd(gone, null);
                await TryFingerprintsAsync(async () => { await store.WriteFingerprintsAsync(all, rebuildUpTo, cancellationToken); return ""; });
            }
            else if (fingerprints is not null && delta.Fingerprints is { Count: > 0 } added)
            {
                var changed = added.ToDictionary(kv => kv.Key,
                    kv => (BucketFingerprint?)(fingerprints.Buckets.TryGetValue(kv.Key, out var before) ? before.Add(kv.Value) : kv.Value));
                await TryFingerprintsAsync(async () => { await store.WriteFingerprintsAsync(changed, delta.FingerprintUpTo, cancellationToken); return ""; });
            }

            if (BeforeOffsetAdvance is { } hook) await hook(cancellationToken);

            var advance = OffsetAdvance.Advance(_watermark, offsetBefore, delta.TxnIds, "Profile", logger);
            foreach (var gap in advance.ExpiredGaps)
            {
                report.Warn(QualityReasons.TxnIdGapExpired, $"txn_id {gap.FirstMissing}..{gap.LastMissing}", gap.Count);
            }
            var offsetAfter = await _offsets.AdvanceAsync(connection, advance.Offset, cancellationToken: cancellationToken);

            Finish(report, activity, modeName, "success", stopwatch);
            state.RecordQuality(modeName, startedAt, time.GetUtcNow().UtcDateTime, succeeded: true, report, profiles);
            state.MarkGood();
            activity?.SetTag("profile.offset.after", offsetAfter);
            activity?.SetTag("profile.profiles.written", profiles.Count);
            logger.LogInformation("Profile {Mode} cycle done: {Profiles} profile(s) written, {Rejects} row(s) rejected, offset {OffsetBefore} -> {OffsetAfter} in {ElapsedMs} ms",
                modeName, profiles.Count, report.TotalRejects, offsetBefore, offsetAfter, stopwatch.ElapsedMilliseconds);
            return new CycleResult(mode, true, offsetBefore, offsetAfter, profiles.Count, report,
                advance.PendingGaps, advance.ExpiredGaps, stopwatch.Elapsed, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Finish(report, activity, modeName, "failure", stopwatch);
            state.RecordQuality(modeName, startedAt, time.GetUtcNow().UtcDateTime, succeeded: false, report, []);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            activity?.AddException(ex);
            logger.LogError(ex, "Profile {Mode} cycle failed; the offset stays at {Offset} and the next cycle redoes the work", modeName, offsetBefore);
            return new CycleResult(mode, false, offsetBefore, offsetBefore, 0, report, [], [], stopwatch.Elapsed, ex);
        }
    }

    private void Finish(DataQualityReport report, Activity? activity, string modeName, string outcome, Stopwatch stopwatch)
    {
        report.Log(logger);
        foreach (var (reason, count) in report.Rejects)
        {
            ProfileTelemetry.Rejects.Add(count, new KeyValuePair<string, object?>("reason", reason));
        }
        foreach (var (reason, count) in report.Warnings)
        {
            ProfileTelemetry.Warnings.Add(count, new KeyValuePair<string, object?>("reason", reason));
        }
        var tags = new TagList { { "mode", modeName }, { "outcome", outcome } };
        ProfileTelemetry.Cycles.Add(1, tags);
        ProfileTelemetry.CycleDuration.Record(stopwatch.Elapsed.TotalSeconds, tags);
        activity?.SetTag("profile.rejects", report.TotalRejects);
        activity?.SetTag("profile.outcome", outcome);
    }

    private async Task<List<CustomerProfile>> ComputeTouchedAsync(TxnDelta delta, DataQualityReport report, CancellationToken cancellationToken)
    {
        if (delta.Customers.Count == 0) return [];
        var aggregatesTask = source.AggregateCustomersAsync(delta.Customers.ToList(), cancellationToken);
        var rows = await source.ReadCustomersAsync(delta.Customers.ToList(), cancellationToken);
        return BuildProfiles(await aggregatesTask, rows, report);
    }

    private async Task<List<CustomerProfile>> ComputeAllAsync(DataQualityReport report, CancellationToken cancellationToken)
    {
        var aggregatesTask = source.AggregateAllAsync((done, total) =>
            logger.LogInformation("Rebuild progress: {Done}/{Total} customer ranges aggregated", done, total), cancellationToken);
        var rows = await source.ReadCustomersAsync(null, cancellationToken);
        return BuildProfiles(await aggregatesTask, rows, report);
    }

    /// <summary>Joins aggregates with the checked customer rows; customers that failed a check or do not exist are left out and reported.</summary>
    public static List<CustomerProfile> BuildProfiles(Dictionary<int, ProfileAggregate> aggregates, IReadOnlyList<CustomerRecord> rows, DataQualityReport report)
    {
        report.AddChecked(rows.Count);
        var valid = MySqlProfileSource.ValidateCustomers(rows, report);
        var present = rows.Where(r => r.CustomerId is not null).Select(r => r.CustomerId!.Value).ToHashSet();
        var profiles = new List<CustomerProfile>(aggregates.Count);
        foreach (var (customerId, aggregate) in aggregates.OrderBy(kv => kv.Key))
        {
            if (!valid.TryGetValue(customerId, out var customer))
            {
                if (!present.Contains(customerId))
                {
                    report.Reject(QualityReasons.CustomerMissing, $"customer_id={customerId} transactions={aggregate.Transactions}");
                }
                continue;
            }
            if (aggregate.Transactions > int.MaxValue)
            {
                report.Reject(QualityReasons.TotalOverflow, $"customer_id={customerId} transactions={aggregate.Transactions}");
                continue;
            }
            report.Warn(QualityReasons.AmountNull, $"customer_id={customerId}", aggregate.NullAmounts);
            report.Warn(QualityReasons.TimestampNull, $"customer_id={customerId}", aggregate.NullTimestamps);
            report.Warn(QualityReasons.ProductMissing, $"customer_id={customerId}", aggregate.MissingProducts);
            profiles.Add(aggregate.ToProfile(customerId, customer.Name!, customer.Email!, customer.Gender!));
        }
        return profiles;
    }
}
