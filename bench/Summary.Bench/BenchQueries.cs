namespace CustomerData.Pipelines.Summary.Bench;

/// <summary>Queries only the benchmark runs (baselines and the rejected alternative), kept out of the pipeline.</summary>
internal static class BenchQueries
{
    // The pipeline's category expression (SummarySource), repeated so the baselines group exactly as it does.
    private const string Category = "(COALESCE(NULLIF(p.category, ''), 'Unknown') COLLATE utf8mb4_bin)";

    /// <summary>The same GROUP BY without the checks (valid data assumed): the benchmark's baseline.</summary>
    public const string BareAggregationQuery = $"""
        SELECT DATE(t.txn_timestamp) AS d, t.customer_id, {Category} AS cat,
          COUNT(*) AS n, SUM(t.amount) AS amt, SUM(t.qty) AS items, COUNT(DISTINCT t.product_id) AS dp
        FROM transactions t JOIN products p ON p.product_id = t.product_id
        WHERE t.txn_timestamp >= @from AND t.txn_timestamp < @to
        GROUP BY d, t.customer_id, cat
        ORDER BY d, t.customer_id, cat
        """;

    /// <summary>
    /// The whole aggregation with window functions in MySQL (top category by ROW_NUMBER): measured by the
    /// benchmark for reference only; on MariaDB 10.11 it costs 2-3x the GROUP BY, so the pipeline folds
    /// the per-category groups itself (CustomerFold).
    /// </summary>
    public const string WindowAggregationQuery = $"""
        SELECT d, customer_id, cat, total_amount, total_items, distinct_products FROM (
          SELECT d, customer_id, cat,
            SUM(amt) OVER (PARTITION BY d, customer_id) AS total_amount,
            SUM(items) OVER (PARTITION BY d, customer_id) AS total_items,
            SUM(dp) OVER (PARTITION BY d, customer_id) AS distinct_products,
            ROW_NUMBER() OVER (PARTITION BY d, customer_id ORDER BY n DESC, CAST(cat AS BINARY)) AS rn
          FROM (
            SELECT DATE(t.txn_timestamp) AS d, t.customer_id, {Category} AS cat,
              COUNT(*) AS n, SUM(t.amount) AS amt, SUM(t.qty) AS items, COUNT(DISTINCT t.product_id) AS dp
            FROM transactions t JOIN products p ON p.product_id = t.product_id
            WHERE t.txn_timestamp >= @from AND t.txn_timestamp < @to
            GROUP BY d, t.customer_id, cat
          ) g
        ) r
        WHERE rn = 1
        ORDER BY d, customer_id
        """;

}
