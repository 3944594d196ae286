using System.Globalization;

namespace CustomerData.Contracts;

/// <summary>
/// Where things live in the lake (SPEC section 4), relative to the lake root
/// (<c>s3://bucket/prefix</c> or a local folder). Keys always use '/'.
/// </summary>
public static class LakeLayout
{
    public const string SummaryTable = "txn_summary";
    public const string SummaryPartitionKey = "date";
    public const string SummaryRejects = "txn_summary_rejects";

    public const string EventsTable = "events";
    public const string EventsPartitionKey = "event_date";
    public const string EventsMalformed = "events_malformed";

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary><c>txn_summary/date=YYYY-MM-DD/</c></summary>
    public static string SummaryPartition(DateOnly day) => $"{SummaryTable}/{SummaryPartitionKey}={Day(day)}/";

    /// <summary><c>events/event_date=YYYY-MM-DD/</c></summary>
    public static string EventsPartition(DateOnly day) => $"{EventsTable}/{EventsPartitionKey}={Day(day)}/";

    /// <summary><c>events_malformed/event_date=YYYY-MM-DD/</c> (the day of the Kafka message timestamp).</summary>
    public static string MalformedPartition(DateOnly day) => $"{EventsMalformed}/{EventsPartitionKey}={Day(day)}/";

    /// <summary>A glob DuckDB reads with <c>hive_partitioning</c>, under a root URI or folder.</summary>
    public static string Glob(string root, string table) => $"{root.TrimEnd('/')}/{table}/*/*.parquet";
}
