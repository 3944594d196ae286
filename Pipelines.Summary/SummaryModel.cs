namespace CustomerData.Pipelines.Summary;

/// <summary>One row of the daily summary lake (SPEC section 4); <see cref="TxnCount"/> is for verification only.</summary>
public readonly record struct DailySummary(int CustomerId, decimal TotalAmount, int TotalItems, int DistinctProducts, string TopCategory, long TxnCount);

/// <summary>A transaction kept out of the summaries, with the first check it failed.</summary>
public sealed record RejectedTxn(long TxnId, int? CustomerId, int? ProductId, int? Qty, decimal? Amount, string? TxnTimestamp, string Reason);

/// <summary>
/// The Pipeline B input checks of SPEC section 5, in the order they are applied (a row gets the first that fails).
/// "txn_id present and unique" has no reason: the primary key of <c>transactions</c> guarantees it.
/// </summary>
public static class RejectReasons
{
    /// <summary>txn_timestamp NULL or the zero timestamp: the row has no UTC day.</summary>
    public const string InvalidTimestamp = "invalid_timestamp";
    public const string MissingCustomerId = "missing_customer_id";
    public const string UnknownCustomer = "unknown_customer";
    public const string MissingProductId = "missing_product_id";
    public const string UnknownProduct = "unknown_product";
    public const string NonPositiveQty = "non_positive_qty";
    public const string NonPositiveAmount = "non_positive_amount";
    /// <summary>
    /// amount is not qty × a unit price in whole cents (amount × 100 not divisible by qty). The row is judged by the
    /// price it implies itself, not by the product's current price, which may have changed since the sale.
    /// </summary>
    public const string AmountMismatch = "amount_mismatch";
    /// <summary>The customer's day totals (sum of qty) do not fit the file's INT column: all that customer-day's rows are rejected.</summary>
    public const string TotalOverflow = "day_total_overflow";

    public static readonly IReadOnlyList<string> All =
        [InvalidTimestamp, MissingCustomerId, UnknownCustomer, MissingProductId, UnknownProduct, NonPositiveQty, NonPositiveAmount, AmountMismatch, TotalOverflow];
}

/// <summary>What a cycle or rebuild did. <see cref="RowsRead"/>: new rows above the offset; <see cref="TransactionsAggregated"/>: every row of the recomputed days.</summary>
public sealed record CycleResult(
    long OffsetBefore,
    long OffsetAfter,
    long RowsRead,
    long TransactionsAggregated,
    int DaysRewritten,
    int DaysDeleted,
    long Rejected,
    IReadOnlyDictionary<string, long> RejectedByReason,
    long PendingGapIds,
    long ExpiredGapIds,
    bool WasSkipped = false)
{
    /// <summary>Up to <see cref="SummaryOptions.RejectSampleSize"/> rejected rows per reason (ids and values; customers are ids only).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> RejectSamples { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>Nothing done: another instance held the writer lock.</summary>
    public static CycleResult Skipped { get; } = new(0, 0, 0, 0, 0, 0, 0, new Dictionary<string, long>(), 0, 0, WasSkipped: true);
}

/// <summary>What a reconcile pass did: days compared, days recomputed, the source query's time.</summary>
public sealed record ReconcileResult(int DaysChecked, int DaysRepaired, TimeSpan SourceTime, bool Skipped);
