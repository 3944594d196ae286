using CustomerData.Contracts;
using Parquet;

namespace CustomerData.Pipelines.Summary;

/// <summary>Pipeline B settings, bound from the <c>Summary</c> section.</summary>
public sealed class SummaryOptions
{
    public const string SectionName = "Summary";

    /// <summary>Connection-string name of the MySQL source.</summary>
    public string ConnectionName { get; set; } = PlatformNames.Connections.MySql;

    /// <summary>The row of <c>txn_summary_offsets</c> this pipeline owns.</summary>
    public string OffsetSource { get; set; } = "transactions";

    /// <summary>Pause between cycles in continuous mode (<c>--interval</c>).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a txn_id gap may hold the offset back before it is reported and passed over.</summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The health check turns unhealthy when the last good cycle is older than this.</summary>
    public TimeSpan UnhealthyAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>First wait after a failed cycle; doubles up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Attempts of a <c>--once</c> or <c>--rebuild</c> run before it gives up (exit code 1).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// Range queries run at once over separate connections when many days are recomputed (a rebuild): MySQL runs
    /// one query on one core, so 2 lets it use two. 1 = one query at a time.
    /// </summary>
    public int QueryParallelism { get; set; } = 2;

    /// <summary>Partitions encoded and read back at once.</summary>
    public int WriteParallelism { get; set; } = 4;

    /// <summary>Parquet compression: Snappy, Zstd, Gzip, Brotli, Lz4Raw or None.</summary>
    public CompressionMethod Compression { get; set; } = CompressionMethod.Snappy;

    /// <summary>Offending rows shown per reason in a rejection log line.</summary>
    public int RejectSampleSize { get; set; } = 5;

    /// <summary>How long a cycle waits for the cross-process writer lock before it is skipped (and logged).</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The reconcile pass (<c>Summary:Reconcile</c>).</summary>
    public ReconcileOptions Reconcile { get; set; } = new();
}

/// <summary>How often a pipeline compares source fingerprints with its output (<c>Summary:Reconcile:Interval</c>, <c>Profile:Reconcile:Interval</c>).</summary>
public sealed class ReconcileOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);
}
