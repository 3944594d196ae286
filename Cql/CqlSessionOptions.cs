namespace CustomerData.Cql;

/// <summary>
/// Settings of a <see cref="CqlSession"/>. The connection string form is
/// <c>Contact Points=host:port[,host:port];Keyspace=ks;Username=u;Password=p;Ssl=true</c>.
/// </summary>
public sealed class CqlSessionOptions
{
    public const int DefaultPort = 9042;

    /// <summary>host:port entries (port defaults to 9042).</summary>
    public List<string> ContactPoints { get; set; } = [];
    public string? Keyspace { get; set; }
    public string? Username { get; set; }
    public string? Password { get; set; }
    public bool Ssl { get; set; }

    /// <summary>Accept any server certificate (dev only, e.g. self-signed certificates).</summary>
    public bool SslAllowInvalidCertificate { get; set; }

    public int ConnectionsPerHost { get; set; } = 2;

    /// <summary>Bound on concurrent requests per connection (stream ids in use); callers wait beyond it.</summary>
    public int MaxRequestsPerConnection { get; set; } = 1024;

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(12);
    public CqlConsistency DefaultConsistency { get; set; } = CqlConsistency.LocalQuorum;
    public int DefaultPageSize { get; set; } = 5000;

    /// <summary>Retries of idempotent statements after ReadTimeout, WriteTimeout, Unavailable or a lost connection.</summary>
    public int MaxRetries { get; set; } = 3;
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Backoff between reconnect attempts to a host that failed: doubles from base up to max.</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Idle time after which a connection sends an OPTIONS heartbeat (finds dead peers before a request does); zero disables.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Highest protocol version to offer; the client falls back to 3 when the server refuses 4.</summary>
    public byte MaxProtocolVersion { get; set; } = 4;

    /// <summary>Parses the connection string (keys are case-insensitive, spaces in key names optional).</summary>
    public static CqlSessionOptions Parse(string connectionString)
    {
        var options = new CqlSessionOptions();
        options.ApplyConnectionString(connectionString);
        return options;
    }

    public void ApplyConnectionString(string connectionString)
    {
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) throw new FormatException($"Cassandra connection string part '{part}' is not key=value.");
            var key = part[..eq].Replace(" ", "", StringComparison.Ordinal).Trim().ToLowerInvariant();
            var value = part[(eq + 1)..].Trim();
            switch (key)
            {
                case "contactpoints" or "contactpoint" or "host" or "hosts":
                    ContactPoints = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    break;
                case "port":
                    ContactPoints = [.. ContactPoints.Select(h => ParseEndpoint(h).Host + ":" + value)];
                    break;
                case "keyspace" or "defaultkeyspace":
                    Keyspace = value.Length == 0 ? null : value;
                    break;
                case "username" or "user" or "userid":
                    Username = value;
                    break;
                case "password":
                    Password = value;
                    break;
                case "ssl" or "usessl" or "tls":
                    Ssl = bool.Parse(value);
                    break;
                default:
                    throw new FormatException($"Unknown key '{part[..eq]}' in the Cassandra connection string (known: Contact Points, Keyspace, Username, Password, Ssl).");
            }
        }
        if (ContactPoints.Count == 0) throw new FormatException("The Cassandra connection string has no 'Contact Points'.");
        foreach (var point in ContactPoints) ParseEndpoint(point);
    }

    internal static (string Host, int Port) ParseEndpoint(string contactPoint)
    {
        var text = contactPoint.Trim();
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            var host6 = text[1..close];
            return (host6, close + 1 < text.Length && text[close + 1] == ':' ? ParsePort(text[(close + 2)..], contactPoint) : DefaultPort);
        }
        var colon = text.LastIndexOf(':');
        if (colon < 0 || text.IndexOf(':') != colon) return (text, DefaultPort);
        return (text[..colon], ParsePort(text[(colon + 1)..], contactPoint));
    }

    private static int ParsePort(string text, string contactPoint) =>
        int.TryParse(text, out var port) && port is > 0 and < 65536
            ? port
            : throw new FormatException($"Contact point '{contactPoint}' has an invalid port.");

    internal void Validate()
    {
        if (ContactPoints.Count == 0) throw new ArgumentException("CqlSessionOptions.ContactPoints is empty.");
        if (ConnectionsPerHost < 1) throw new ArgumentException("ConnectionsPerHost must be at least 1.");
        if (MaxRequestsPerConnection is < 1 or > 32768) throw new ArgumentException("MaxRequestsPerConnection must be 1..32768.");
        if (MaxProtocolVersion is < 3 or > 4) throw new ArgumentException("MaxProtocolVersion must be 3 or 4.");
    }
}

/// <summary>Per-request settings; anything left null takes the session default.</summary>
public sealed record CqlQueryOptions
{
    public CqlConsistency? Consistency { get; init; }
    public CqlConsistency? SerialConsistency { get; init; }
    public int? PageSize { get; init; }
    public byte[]? PagingState { get; init; }

    /// <summary>
    /// Whether the statement may run twice safely. Only idempotent statements are retried after
    /// ReadTimeout/WriteTimeout/Unavailable or a lost connection. Null: SELECTs are idempotent, writes are not.
    /// </summary>
    public bool? IsIdempotent { get; init; }
    public TimeSpan? Timeout { get; init; }

    /// <summary>Write timestamp in microseconds since the epoch (the server's clock when null).</summary>
    public long? Timestamp { get; init; }
}

/// <summary>Batch kinds (spec 4.1.7).</summary>
public enum CqlBatchType : byte
{
    Logged = 0,
    Unlogged = 1,
    Counter = 2,
}

/// <summary>Statements sent together in one BATCH message (unlogged unless told otherwise).</summary>
public sealed class CqlBatch
{
    internal readonly List<(string? Query, CqlPreparedStatement? Prepared, IReadOnlyList<object?> Values)> Statements = [];

    public CqlBatchType Type { get; init; } = CqlBatchType.Unlogged;
    public int Count => Statements.Count;

    public CqlBatch Add(string cql, params object?[] values)
    {
        Statements.Add((cql, null, values));
        return this;
    }

    public CqlBatch Add(CqlPreparedStatement statement, params object?[] values)
    {
        if (values.Length != statement.Variables.Count)
            throw new ArgumentException($"Statement '{statement.Query}' takes {statement.Variables.Count} values, got {values.Length}.");
        Statements.Add((null, statement, values));
        return this;
    }
}

/// <summary>A statement prepared on the server; reuse it (the session caches it by query text).</summary>
public sealed class CqlPreparedStatement
{
    internal CqlPreparedStatement(string query, string? keyspace, byte[] id, CqlColumnSet variables, CqlColumnSet resultColumns, int[] partitionKeyIndexes)
    {
        Query = query;
        Keyspace = keyspace;
        Id = id;
        Variables = variables;
        ResultColumns = resultColumns;
        PartitionKeyIndexes = partitionKeyIndexes;
    }

    public string Query { get; }
    internal string? Keyspace { get; }

    /// <summary>First keyword (SELECT, INSERT, ...): span name and metric tag.</summary>
    internal string Operation => _operation ??= CqlSession.FirstWord(Query);
    private string? _operation;
    internal byte[] Id { get; set; }

    /// <summary>The bind markers, in order, with their column types.</summary>
    public CqlColumnSet Variables { get; }
    public CqlColumnSet ResultColumns { get; internal set; }
    public IReadOnlyList<int> PartitionKeyIndexes { get; }
}
