using System.Collections.Concurrent;
using CustomerData.Contracts.Quality;
using Microsoft.Extensions.Logging;

namespace CustomerData.Pipelines.Profile;

/// <summary>The reasons of SPEC section 5 A under which rows are rejected (left out) or defaulted (kept with a warning).</summary>
public static class QualityReasons
{
    // Rejected: the customer's profile is not written this cycle.
    public const string CustomerIdNull = "customer_id_null";
    public const string CustomerIdDuplicate = "customer_id_duplicate";
    public const string EmailInvalid = "email_invalid";
    public const string GenderInvalid = "gender_invalid";
    public const string SignupDateInvalid = "signup_date_invalid";
    public const string CustomerMissing = "customer_missing";
    public const string TransactionCustomerIdNull = "txn_customer_id_null";
    /// <summary>More transactions than the profile's <c>total_transactions int</c> holds (a poison row, not an exception that fails every cycle).</summary>
    public const string TotalOverflow = "total_transactions_overflow";

    // Defaulted: kept, with the documented default and a warning.
    public const string NameNull = "name_null";
    public const string GenderNull = "gender_null";
    public const string SignupDateNull = "signup_date_null";
    public const string AmountNull = "amount_null";
    public const string TimestampNull = "txn_timestamp_null";
    public const string ProductMissing = "product_missing";

    /// <summary>A txn_id gap that outlived the grace period: those ids were passed over.</summary>
    public const string TxnIdGapExpired = "txn_id_gap_expired";
}

/// <summary>
/// Counts of one cycle's rejected and defaulted rows by reason, with a few samples each.
/// Thread-safe: the aggregation runs several queries at once.
/// </summary>
public sealed class DataQualityReport(int samplesPerReason)
{
    private readonly ConcurrentDictionary<string, Entry> _rejects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry> _warnings = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, long> Rejects => _rejects.ToDictionary(kv => kv.Key, kv => kv.Value.Count, StringComparer.Ordinal);
    public IReadOnlyDictionary<string, long> Warnings => _warnings.ToDictionary(kv => kv.Key, kv => kv.Value.Count, StringComparer.Ordinal);

    public IReadOnlyList<string> RejectSamples(string reason) => _rejects.TryGetValue(reason, out var e) ? e.SamplesSnapshot() : [];
    public IReadOnlyList<string> WarningSamples(string reason) => _warnings.TryGetValue(reason, out var e) ? e.SamplesSnapshot() : [];

    public long TotalRejects => _rejects.Values.Sum(e => e.Count);

    /// <summary>Rows the checks looked at: transactions above the offset and customer rows validated.</summary>
    public long RowsChecked => Interlocked.Read(ref _rowsChecked);
    private long _rowsChecked;

    public void AddChecked(long rows) => Interlocked.Add(ref _rowsChecked, rows);

    /// <summary>The rejects (or the warnings) with their samples, as <c>/quality</c> shows them.</summary>
    public IReadOnlyList<QualityReasonCount> ToReasons(bool rejects) =>
        (rejects ? _rejects : _warnings).OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new QualityReasonCount(kv.Key, kv.Value.Count, kv.Value.SamplesSnapshot())).ToList();

    public void Reject(string reason, string sample, long count = 1) => Add(_rejects, reason, sample, count);

    public void Warn(string reason, string sample, long count = 1) => Add(_warnings, reason, sample, count);

    private void Add(ConcurrentDictionary<string, Entry> entries, string reason, string sample, long count)
    {
        if (count <= 0) return;
        entries.GetOrAdd(reason, _ => new Entry()).Add(sample, count, samplesPerReason);
    }

    /// <summary>One structured log line per reason: the count and the samples.</summary>
    public void Log(ILogger logger)
    {
        foreach (var (reason, entry) in _rejects.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            logger.LogWarning("Data quality: {Count} row(s) rejected for {Reason}; samples: {Samples}",
                entry.Count, reason, entry.SamplesSnapshot());
        }
        foreach (var (reason, entry) in _warnings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            logger.LogWarning("Data quality: {Count} value(s) defaulted or passed over for {Reason}; samples: {Samples}",
                entry.Count, reason, entry.SamplesSnapshot());
        }
    }

    private sealed class Entry
    {
        private readonly Lock _lock = new();
        private readonly List<string> _samples = [];
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public void Add(string sample, long count, int maxSamples)
        {
            Interlocked.Add(ref _count, count);
            lock (_lock)
            {
                if (_samples.Count < maxSamples) _samples.Add(PersonalData.Cap(sample));
            }
        }

        public IReadOnlyList<string> SamplesSnapshot()
        {
            lock (_lock) return _samples.ToArray();
        }
    }
}
