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

    public SummaryTelemetry()
    {
        RowsRead = _meter.CreateCounter<long>("summary.rows_read", "{transaction}", "Transactions above the offset read by a cycle.");
        DaysRewritten = _meter.CreateCounter<long>("summary.days_rewritten", "{day}", "Day partitions published.");
        Rejects = _meter.CreateCounter<long>("summary.rejects", "{transaction}", "Transactions kept out of the summaries, by reason (counted when first seen above the offset).");
        ExpiredGapIds = _meter.CreateCounter<long>("summary.gap_ids_expired", "{transaction}", "Missing txn_ids passed over after the grace period.");
        CycleDuration = _meter.CreateHistogram<double>("summary.cycle.duration", "s", "Time from cycle start to offset committed.");
        CycleFailures = _meter.CreateCounter<long>("summary.cycle.failures", "{cycle}", "Cycles that failed and will be retried.");
        _meter.CreateObservableGauge("summary.lag.transactions", () => Volatile.Read(ref _lagTxns), "{transaction}", "Transactions above the stored offset at the last cycle start.");
        _meter.CreateObservableGauge("summary.lag.seconds", () => Volatile.Read(ref _lagSeconds), "s", "Age of the oldest transaction above the stored offset at the last cycle start.");
    }

    public Counter<long> RowsRead { get; }
    public Counter<long> DaysRewritten { get; }
    public Counter<long> Rejects { get; }
    public Counter<long> ExpiredGapIds { get; }
    public Histogram<double> CycleDuration { get; }
    public Counter<long> CycleFailures { get; }

    public void SetLag(long transactions, double seconds)
    {
        Volatile.Write(ref _lagTxns, transactions);
        Volatile.Write(ref _lagSeconds, seconds);
    }

    public void Dispose() => _meter.Dispose();
}

/// <summary>When the last cycle succeeded; read by the health check.</summary>
public sealed class SummaryHealthState(TimeProvider timeProvider)
{
    private long _lastGoodTicks;

    public DateTimeOffset StartedAt { get; } = timeProvider.GetUtcNow();

    public DateTimeOffset? LastGoodCycle
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastGoodTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    public void MarkGood() => Interlocked.Exchange(ref _lastGoodTicks, timeProvider.GetUtcNow().UtcTicks);
}
