using System.Globalization;

namespace CustomerData.Lake;

/// <summary>
/// Where things live in the lake (SPEC section 4), relative to the lake root
/// (<c>s3://bucket/prefix</c> or a local folder). Keys always use '/'.
/// </summary>
public static class LakeLayout
{
    public const string SummaryTable = "txn_summary";
    public const string SummaryPartitionKey = "date";
    public const string SummaryRejects = "txn_summary_rejects";

    /// <summary>Pipeline B's reconcile state, apart from the table so no <c>*.parquet</c> glob over it sees it.</summary>
    public const string SummaryReconcile = "txn_summary_reconcile";

    /// <summary><c>txn_summary_reconcile/fingerprints.json</c>: the source fingerprint of every day as last written.</summary>
    public const string SummaryFingerprintsFile = SummaryReconcile + "/fingerprints.json";

    public const string EventsTable = "events";
    public const string EventsPartitionKey = "event_date";
    public const string EventsMalformed = "events_malformed";

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A partition value written by <see cref="Day"/> (as DuckDB returns a hive partition column) back into its day.</summary>
    public static DateOnly ParseDay(string value) => DateOnly.ParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary><c>txn_summary/date=YYYY-MM-DD/</c></summary>
    public static string SummaryPartition(DateOnly day) => $"{SummaryTable}/{SummaryPartitionKey}={Day(day)}/";

    /// <summary><c>events/event_date=YYYY-MM-DD/</c></summary>
    public static string EventsPartition(DateOnly day) => $"{EventsTable}/{EventsPartitionKey}={Day(day)}/";

    /// <summary><c>events_malformed/event_date=YYYY-MM-DD/</c> (the day of the Kafka message timestamp).</summary>
    public static string MalformedPartition(DateOnly day) => $"{EventsMalformed}/{EventsPartitionKey}={Day(day)}/";

    /// <summary>The one file of a summary partition: a fixed name replaced atomically, so a reader never sees two files for a day.</summary>
    public const string SummaryPartFile = "part-0.parquet";

    /// <summary>Partition value of the rejects report for rows without a valid timestamp (no UTC day).</summary>
    public const string UndatedPartition = "unknown";

    /// <summary><c>txn_summary/date=YYYY-MM-DD/part-0.parquet</c></summary>
    public static string SummaryFile(DateOnly day) => SummaryPartition(day) + SummaryPartFile;

    /// <summary><c>txn_summary_rejects/date=YYYY-MM-DD/part-0.parquet</c></summary>
    public static string SummaryRejectsFile(DateOnly day) => $"{SummaryRejects}/{SummaryPartitionKey}={Day(day)}/{SummaryPartFile}";

    /// <summary><c>txn_summary_rejects/date=unknown/part-NNNNNNNNNN.parquet</c>: undated rejects filed by txn_id block.</summary>
    public static string SummaryUndatedRejectsFile(long block) =>
        $"{SummaryRejects}/{SummaryPartitionKey}={UndatedPartition}/part-{block.ToString("D10", CultureInfo.InvariantCulture)}.parquet";

    /// <summary>The hive partition value of <paramref name="key"/> for <paramref name="partitionKey"/> (<c>.../key=VALUE/...</c>).</summary>
    public static bool TryParsePartitionValue(string key, string partitionKey, out string value)
    {
        value = "";
        var marker = "/" + partitionKey + "=";
        var start = key.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0) return false;
        var rest = key[(start + marker.Length)..];
        var end = rest.IndexOf('/');
        if (end < 0) return false;
        value = rest[..end];
        return true;
    }

    /// <summary>The day of a key under a <c>...=YYYY-MM-DD/</c> partition of <paramref name="partitionKey"/>.</summary>
    public static bool TryParseDay(string key, string partitionKey, out DateOnly day)
    {
        day = default;
        return TryParsePartitionValue(key, partitionKey, out var value)
            && DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
    }

    /// <summary>A glob DuckDB reads with <c>hive_partitioning</c>, under a root URI or folder.</summary>
    public static string Glob(string root, string table) => $"{root.TrimEnd('/')}/{table}/*/*.parquet";
}
