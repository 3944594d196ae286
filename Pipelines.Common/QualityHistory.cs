using System.Diagnostics.Metrics;
using CustomerData.Contracts.Quality;

namespace CustomerData.Pipelines.Common;

/// <summary>
/// A pipeline's data-quality record, one place for both views of it: a bounded ring of the recent cycles' checks (what
/// <c>GET /quality</c> serves) and the same figures on the pipeline's meter under the same names — counters
/// <c>quality.rows_checked</c>, <c>quality.rejects{reason}</c>, <c>quality.warnings{reason}</c> and gauges
/// <c>quality.freshness_seconds</c>, <c>quality.lag</c>. Reasons are the only label (never an id or an email).
/// Samples are capped in number and length; the pipelines pass them masked already.
/// </summary>
public sealed class QualityHistory
{
    public const int DefaultCapacity = 20;
    public const int MaxSamplesPerReason = 5;
    public const int MaxSampleLength = 200;

    private readonly Lock _lock = new();
    private readonly Queue<QualityCycle> _recent;
    private readonly int _capacity;
    private readonly SortedDictionary<string, long> _rejects = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, long> _warnings = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Counter<long> _rowsChecked;
    private readonly Counter<long> _rejectCounter;
    private readonly Counter<long> _warningCounter;
    private long _cycles;
    private long _rows;
    private DateTime? _newestRecord;
    private long? _lag;

    /// <param name="pipeline"><c>profile</c>, <c>summary</c> or <c>events</c>.</param>
    /// <param name="lagUnit"><c>transactions</c> or <c>messages</c> (the gauge's unit is its singular in braces).</param>
    public QualityHistory(string pipeline, Meter meter, string lagUnit, TimeProvider time, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Pipeline = pipeline;
        LagUnit = lagUnit;
        _time = time;
        _capacity = capacity;
        _recent = new Queue<QualityCycle>(capacity);
        _rowsChecked = meter.CreateCounter<long>("quality.rows_checked", "{row}", "Rows (C: messages) the data-quality checks looked at.");
        _rejectCounter = meter.CreateCounter<long>("quality.rejects", "{row}", "Rows left out by a data-quality check (C: messages set apart as malformed), by reason.");
        _warningCounter = meter.CreateCounter<long>("quality.warnings", "{row}", "Rows kept with a documented default, by reason.");
        meter.CreateObservableGauge("quality.freshness_seconds", ObserveFreshness, "s", "Age of the newest record the pipeline has written (its source time).");
        meter.CreateObservableGauge("quality.lag", ObserveLag, "{" + lagUnit.TrimEnd('s') + "}",
            "A, B: transactions above the stored offset at the last cycle start; C: consumer lag.");
    }

    public string Pipeline { get; }
    public string LagUnit { get; }

    /// <summary>Adds a finished cycle (or batch): to the ring, the totals and the counters.</summary>
    public void Record(QualityCycle cycle)
    {
        var kept = cycle with { Rejects = Capped(cycle.Rejects), Warnings = Capped(cycle.Warnings) };
        lock (_lock)
        {
            if (_recent.Count == _capacity) _recent.Dequeue();
            _recent.Enqueue(kept);
            _cycles++;
            _rows += kept.RowsChecked;
            foreach (var r in kept.Rejects) _rejects[r.Reason] = _rejects.GetValueOrDefault(r.Reason) + r.Count;
            foreach (var w in kept.Warnings) _warnings[w.Reason] = _warnings.GetValueOrDefault(w.Reason) + w.Count;
            if (kept.NewestRecordAt is { } newest && (_newestRecord is null || newest > _newestRecord)) _newestRecord = newest;
            if (kept.Lag is { } lag) _lag = lag;
        }
        _rowsChecked.Add(kept.RowsChecked);
        foreach (var r in kept.Rejects) _rejectCounter.Add(r.Count, new KeyValuePair<string, object?>("reason", r.Reason));
        foreach (var w in kept.Warnings) _warningCounter.Add(w.Count, new KeyValuePair<string, object?>("reason", w.Reason));
    }

    /// <summary>The lag as it is now (C updates it per committed batch, A and B per cycle).</summary>
    public void SetLag(long lag)
    {
        lock (_lock) _lag = Math.Max(0, lag);
    }

    /// <summary>The report of <c>GET /quality</c>: recent cycles newest first, totals since start, freshness as of now.</summary>
    public PipelineQualityReport Report()
    {
        var now = _time.GetUtcNow().UtcDateTime;
        lock (_lock)
        {
            return new PipelineQualityReport(Pipeline, now, Freshness(now), _newestRecord, _lag, LagUnit,
                new QualityTotals(_cycles, _rows, Totals(_rejects), Totals(_warnings)),
                _recent.Reverse().ToList());
        }
    }

    /// <summary>Seconds from the newest record written to <paramref name="now"/>; never negative (a source clock ahead of ours).</summary>
    private double? Freshness(DateTime now) => _newestRecord is { } newest ? Math.Round(Math.Max(0, (now - newest).TotalSeconds), 3) : null;

    private static List<QualityReasonCount> Totals(SortedDictionary<string, long> counts) =>
        counts.Select(kv => new QualityReasonCount(kv.Key, kv.Value, [])).ToList();

    private static List<QualityReasonCount> Capped(IReadOnlyList<QualityReasonCount> reasons) =>
        reasons.Where(r => r.Count > 0)
            .OrderBy(r => r.Reason, StringComparer.Ordinal)
            .Select(r => r with { Samples = r.Samples.Take(MaxSamplesPerReason).Select(Cap).ToList() })
            .ToList();

    private static string Cap(string sample) => sample.Length <= MaxSampleLength ? sample : sample[..MaxSampleLength] + "…";

    private IEnumerable<Measurement<double>> ObserveFreshness()
    {
        double? freshness;
        lock (_lock) freshness = Freshness(_time.GetUtcNow().UtcDateTime);
        return freshness is { } seconds ? [new Measurement<double>(seconds)] : [];
    }

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        long? lag;
        lock (_lock) lag = _lag;
        return lag is { } value ? [new Measurement<long>(value)] : [];
    }
}
