using CustomerData.Contracts;

namespace CustomerData.Producer;

/// <summary>Settings of the Producer, bound from the <c>Producer</c> configuration section; command-line options override them.</summary>
public sealed class ProducerOptions
{
    public const string Section = "Producer";

    /// <summary>Kafka topic of the behaviour events.</summary>
    public string Topic { get; set; } = PlatformNames.EventsTopic;

    /// <summary>Live transactions appended per second (0 turns the transaction stream off).</summary>
    public double TxnRate { get; set; } = 20;

    /// <summary>Live events sent per second (0 turns the event stream off).</summary>
    public double EventRate { get; set; } = 50;

    /// <summary>Wire format of the events: plain Avro of the contract, or Confluent's (magic byte, schema id, Avro).</summary>
    public EventFormat Format { get; set; } = EventFormat.Plain;

    /// <summary>Schema registry the contract is registered with for <see cref="EventFormat.Confluent"/> (subject <c>TOPIC-value</c>).</summary>
    public string? SchemaRegistryUrl { get; set; }

    /// <summary>Share (0..1) of events replaced by a malformed message; the kinds are mixed evenly.</summary>
    public double MalformedRate { get; set; }

    /// <summary>Seed of the deterministic generators (seeding, and the live streams' choices).</summary>
    public int Seed { get; set; } = 42;

    public int Customers { get; set; } = 5_000;
    public int Products { get; set; } = 500;
    public long Transactions { get; set; } = 1_000_000;

    /// <summary>First day (UTC) of the seeded purchase history.</summary>
    public DateOnly HistoryStart { get; set; } = new(2020, 1, 1);

    /// <summary>Day (UTC, exclusive) the seeded history ends; empty means today, so the live stream continues it.</summary>
    public DateOnly? HistoryEnd { get; set; }

    /// <summary>Transactions per bulk-load statement; each chunk commits on its own so a stop loses at most one.</summary>
    public int SeedChunkRows { get; set; } = 100_000;

    /// <summary>Chunks loaded side by side, each on its own connection.</summary>
    public int SeedParallelism { get; set; } = 1;

    /// <summary>How seed rows are loaded; Auto uses MySqlBulkCopy when the server allows LOAD DATA LOCAL, else multi-row INSERTs.</summary>
    public SeedLoadMethod LoadMethod { get; set; } = SeedLoadMethod.Auto;

    /// <summary>In the live mode (no arguments): seed an empty database before streaming.</summary>
    public bool SeedOnStart { get; set; } = true;

    /// <summary>
    /// Length of a live stream's trace window: the sends (and the transaction appends) of one window are children of
    /// one root span, <c>live events</c> (<c>live transactions</c>), so the dashboard lists a few traces a minute instead of one per send.
    /// </summary>
    public TimeSpan TraceWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest pause between retries when MySQL or Kafka is unreachable.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    public DateOnly EffectiveHistoryEnd(TimeProvider time) =>
        HistoryEnd ?? DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
}

public enum EventFormat
{
    /// <summary>Plain Avro binary of the contract (SPEC section 3).</summary>
    Plain,
    /// <summary>Confluent wire format: byte 0, the 4-byte big-endian schema id from the registry, then the Avro binary.</summary>
    Confluent,
}

public enum SeedLoadMethod
{
    Auto,
    BulkCopy,
    Insert,
}
