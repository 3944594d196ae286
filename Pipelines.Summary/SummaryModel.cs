namespace CustomerData.Pipelines.Summary;

/// <summary>One row of the daily summary lake (SPEC section 4); <see cref="TxnCount"/> is for verification only.</summary>
public readonly record struct DailySummary(int CustomerId, decimal TotalAmount, int TotalItems, int DistinctProducts, string TopCategory, long TxnCount);

/// <summary>A transaction kept out of the summaries, with the first check it failed.</summary>
public sealed record RejectedTxn(long TxnId, int? CustomerId, int? ProductId, int? Qty, decimal? Amount, string? TxnTimestamp, string Reason);

/// <summary>The Pipeline B input checks of SPEC section 5, in the order they are applied (a row gets the first that fails).</summary>
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
    /// <summary>amount differs from qty × the product's price.</summary>
    public const string AmountMismatch = "amount_mismatch";
    /// <summary>txn_id seen twice in one read (the primary key rules it out; the check guards a changed schema).</summary>
    public const string DuplicateTxnId = "duplicate_txn_id";

    public static readonly IReadOnlyList<string> All =
        [InvalidTimestamp, MissingCustomerId, UnknownCustomer, MissingProductId, UnknownProduct, NonPositiveQty, NonPositiveAmount, AmountMismatch, DuplicateTxnId];
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
    long ExpiredGapIds);
