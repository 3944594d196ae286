using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CustomerData.Pipelines.Summary;

/// <summary>The pipeline's ActivitySource and Meter (<c>CustomerData.Summary</c>, exported by ServiceDefaults).</summary>
public sealed class SummaryTelemetry : IDisposable
{
    public const string Name = "CustomerData.Summary";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter = new(Name);
    private long _lagTxns;
    private double _lagSeconds;
    private long _lastReconcileUnixSeconds;

    public SummaryTelemetry(TimeProvider? time = null)
    {
        Quality = new CustomerData.Pipelines.Common.QualityHistory("summary", _meter, "transactions", time ?? TimeProvider.System);
        RowsRead = _meter.CreateCounter<long>("summary.rows_read", "{transaction}", "Transactions above the offset read by a cycle.");
        DaysRewritten = _meter.CreateCounter<long>("summary.days_rewritten", "{day}", "Day partitions published.");
        Rejects = _meter.CreateCounter<long>("summary.rejects", "{transaction}", "Transactions kept out of the summaries, by reason (counted when first seen above the offset).");
        ExpiredGapIds = _meter.CreateCounter<long>("summary.gap_ids_expired", "{transaction}", "Missing txn_ids passed over after the grace period.");
        CycleDuration = _meter.CreateHistogram<double>("summary.cycle.duration", "s", "Time from cycle start to offset committed.");
        CycleFailures = _meter.CreateCounter<long>("summary.cycle.failures", "{cycle}", "Cycles that failed and will be retried.");
        DaysRepaired = _meter.CreateCounter<long>("summary.reconcile.days_repaired", "{day}", "Days the reconcile pass found different from the source and recomputed.");
        LockSkips = _meter.CreateCounter<long>("summary.lock.skips", "{cycle}", "Cycles skipped because another instance held the writer lock.");
        _meter.CreateObservableGauge("summary.reconcile.last_time", () => Volatile.Read(ref _lastReconcileUnixSeconds), "s", "Unix time of the last finished reconcile pass (0: none yet).");
        _meter.CreateObservableGauge("summary.lag.transactions", () => Volatile.Read(ref _lagTxns), "{transaction}", "Transactions above the stored offset at the last cycle start.");
        _meter.CreateObservableGauge("summary.lag.seconds", () => Volatile.Read(ref _lagSeconds), "s", "Age of the oldest transaction above the stored offset at the last cycle start.");
    }

    /// <summary>This instance's meter (tests listen to it alone).</summary>
    internal Meter Meter => _meter;

    public Counter<long> RowsRead { get; }
    public Counter<long> DaysRewritten { get; }
    public Counter<long> Rejects { get; }
    public Counter<long> ExpiredGapIds { get; }
    public Histogram<double> CycleDuration { get; }
    public Counter<long> CycleFailures { get; }
    public Counter<long> DaysRepaired { get; }
    public Counter<long> LockSkips { get; }

    /// <summary>The recent cycles' checks (<c>GET /quality</c>) and their <c>quality.*</c> metrics, on this meter.</summary>
    public CustomerData.Pipelines.Common.QualityHistory Quality { get; }

    public void MarkReconciled(DateTimeOffset at) => Volatile.Write(ref _lastReconcileUnixSeconds, at.ToUnixTimeSeconds());

    public void SetLag(long transactions, double seconds)
    {
        Volatile.Write(ref _lagTxns, transactions);
        Volatile.Write(ref _lagSeconds, seconds);
        Quality.SetLag(transactions);
    }

    public void Dispose() => _meter.Dispose();
}

/// <summary>When the last cycle succeeded; read by the health check (the shared <see cref="PipelineHealthState"/>).</summary>
public sealed class SummaryHealthState(TimeProvider timeProvider) : PipelineHealthState(timeProvider);
