using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CustomerData.Pipelines.Profile;

/// <summary>Pipeline A's span source and metrics (exported by ServiceDefaults through the <c>CustomerData.</c> prefix).</summary>
public static class ProfileTelemetry
{
    public const string Name = "CustomerData.Profile";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> CustomersUpdated = Meter.CreateCounter<long>(
        "profile.customers.updated", "{customer}", "Profiles upserted into Cassandra.");

    public static readonly Counter<long> Rejects = Meter.CreateCounter<long>(
        "profile.rejects", "{row}", "Rows left out by a data-quality check, by reason.");

    public static readonly Counter<long> Warnings = Meter.CreateCounter<long>(
        "profile.warnings", "{value}", "Values defaulted or txn_ids passed over, by reason.");

    public static readonly Counter<long> WriteRetries = Meter.CreateCounter<long>(
        "profile.write.retries", "{retry}", "Upserts and read-backs retried after ReadTimeout, WriteTimeout or Unavailable.");

    public static readonly Histogram<double> WriteLatency = Meter.CreateHistogram<double>(
        "profile.write.duration", "ms", "Latency of one profile upsert, retries included.");

    public static readonly Histogram<double> CycleDuration = Meter.CreateHistogram<double>(
        "profile.cycle.duration", "s", "Duration of a cycle, by mode and outcome.");

    public static readonly Counter<long> Cycles = Meter.CreateCounter<long>(
        "profile.cycles", "{cycle}", "Cycles run, by mode and outcome.");

    public static readonly Counter<long> CustomersRepaired = Meter.CreateCounter<long>(
        "profile.reconcile.customers_repaired", "{customer}", "Customers the reconcile pass recomputed because their bucket differed from the source.");

    public static readonly Counter<long> LockSkips = Meter.CreateCounter<long>(
        "profile.lock.skips", "{cycle}", "Cycles skipped because another instance held the writer lock.");

    private static long s_lastReconcileUnixSeconds;

    /// <summary>Unix time of the last finished reconcile pass (0: none yet).</summary>
    public static readonly ObservableGauge<long> LastReconcile = Meter.CreateObservableGauge(
        "profile.reconcile.last_time", () => Volatile.Read(ref s_lastReconcileUnixSeconds), "s", "Unix time of the last finished reconcile pass (0: none yet).");

    internal static void MarkReconciled(DateTimeOffset at) => Volatile.Write(ref s_lastReconcileUnixSeconds, at.ToUnixTimeSeconds());

    /// <summary>Registers the gauges that read the pipeline's state (called once per state instance).</summary>
    internal static void ObserveState(ProfileCycleState state)
    {
        Meter.CreateObservableGauge("profile.lag.transactions", () => state.LastBacklog, "{transaction}",
            "Transactions above the stored offset when the last cycle started.");
        Meter.CreateObservableGauge("profile.lag.seconds", () => state.SinceLastGood().TotalSeconds, "s",
            "Time since the last cycle that finished.");
    }
}

/// <summary>What the health check and the gauges know about the cycles: the shared <see cref="PipelineHealthState"/> and the backlog.</summary>
public sealed class ProfileCycleState : PipelineHealthState
{
    private long _lastBacklog;

    public ProfileCycleState(TimeProvider time) : base(time)
    {
        Quality = new CustomerData.Pipelines.Common.QualityHistory("profile", ProfileTelemetry.Meter, "transactions", time);
        ProfileTelemetry.ObserveState(this);
    }

    public long LastBacklog => Interlocked.Read(ref _lastBacklog);

    /// <summary>The recent cycles' checks (<c>GET /quality</c>) and their <c>quality.*</c> metrics.</summary>
    public CustomerData.Pipelines.Common.QualityHistory Quality { get; }

    /// <summary>
    /// A cycle's checks into <see cref="Quality"/>; the newest record is the latest purchase written. Reconcile passes are
    /// not recorded (as on <c>profile.rejects</c>): they re-check rows a cycle already reported.
    /// </summary>
    internal void RecordQuality(string kind, DateTime startedAt, DateTime finishedAt, bool succeeded, DataQualityReport report, IReadOnlyList<CustomerProfile> written) =>
        Quality.Record(new CustomerData.Contracts.Quality.QualityCycle(kind, startedAt, finishedAt, succeeded, report.RowsChecked,
            report.ToReasons(rejects: true), report.ToReasons(rejects: false), written.Select(p => p.LastPurchase).Max()?.UtcDateTime, LastBacklog));

    internal void RecordBacklog(long transactions)
    {
        Interlocked.Exchange(ref _lastBacklog, transactions);
        Quality.SetLag(transactions);
    }
}
