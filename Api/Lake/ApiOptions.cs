using System.ComponentModel.DataAnnotations;

namespace CustomerData.Api.Lake;

/// <summary>Settings of the API's lake reading, bound from <c>Api</c> and validated at start.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>How often the lake is listed (and, for S3 without httpfs, mirrored): an answer reflects the lake as of at most about this long ago plus one listing.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Keep the rows of lake files in memory, sorted by customer (see docs/api.md); false: every request queries DuckDB over the files.</summary>
    public bool CacheLakeFiles { get; set; } = true;

    /// <summary>At most this many lake rows (events and summary rows together) kept in memory; least recently used files leave first.</summary>
    [Range(10_000, 1_000_000_000)]
    public long MaxCachedRows { get; set; } = 20_000_000;

    /// <summary>Where an S3 lake is mirrored when DuckDB cannot load httpfs. Empty: a folder under the temp directory.</summary>
    public string? MirrorFolder { get; set; }

    [Required]
    public DuckDbSettings DuckDb { get; set; } = new();

    [Required]
    public CassandraSettings Cassandra { get; set; } = new();
}

public sealed class DuckDbSettings
{
    /// <summary>Open connections to the one DuckDB database: at most this many queries run at once.</summary>
    [Range(1, 256)]
    public int Connections { get; set; } = Math.Max(2, Environment.ProcessorCount * 2);

    /// <summary>DuckDB's <c>threads</c>, set once for the database (each query runs on up to this many).</summary>
    [Range(1, 256)]
    public int Threads { get; set; } = 1;

    /// <summary>DuckDB's <c>memory_limit</c>.</summary>
    [Required]
    public string MemoryLimit { get; set; } = "1GB";

    /// <summary>Longest a request waits for a free connection before it gets 503 <c>unavailable</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan AcquireTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Folder holding DuckDB extensions (e.g. httpfs, as a container image would carry it); empty: DuckDB's default.</summary>
    public string? ExtensionDirectory { get; set; }
}

public sealed class CassandraSettings
{
    /// <summary>The keyspace of <c>customer_profile</c> when the connection string names none.</summary>
    [Required]
    public string Keyspace { get; set; } = CustomerData.Contracts.PlatformNames.Keyspace;

    [Required]
    public string Table { get; set; } = "customer_profile";

    /// <summary>Longest a profile read may take: past it (Cassandra down or slow) the answer is 503 <c>unavailable</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:30")]
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromMilliseconds(800);
}
