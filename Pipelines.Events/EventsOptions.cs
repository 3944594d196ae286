using CustomerData.Contracts;

namespace CustomerData.Pipelines.Events;

/// <summary>Settings of Pipeline C, bound from the <c>Events</c> section.</summary>
public sealed class EventsOptions
{
    public const string SectionName = "Events";

    public string Topic { get; set; } = PlatformNames.EventsTopic;

    /// <summary>Consumer group; its committed offsets are the pipeline's progress, so it is the lake's identity.</summary>
    public string GroupId { get; set; } = "pipelines-events";

    /// <summary>
    /// Lets this group take over a lake another group wrote (its id is in <c>events/_lake_identity.json</c>): the old
    /// group's committed offsets are copied to this group first, so it goes on where the old one stopped instead
    /// of replaying the topic. Stop the old group's instances first. Without it a different group refuses to start.
    /// </summary>
    public bool AdoptLake { get; set; }

    /// <summary>A partition's batch closes at this many records.</summary>
    public int MaxBatchRecords { get; set; } = 100_000;

    /// <summary>A partition's batch closes once its raw message bytes reach this size.</summary>
    public long MaxBatchBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Record time a batch may span: a record whose Kafka timestamp is this far past the batch's first
    /// record closes the batch (data-driven, so a replay cuts the same batch). When the partition is caught
    /// up (end of log) a batch whose first record is this old by the clock closes too, so a slow stream
    /// stays fresh.
    /// </summary>
    public TimeSpan MaxBatchSpan { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Closed batches being written at once (Parquet encoding overlaps consuming); commits stay in order.</summary>
    public int MaxBatchesInFlight { get; set; } = 2;

    /// <summary>Malformed share of a batch above which a warning is logged and a metric counts it.</summary>
    public double MalformedAlertRatio { get; set; } = 0.05;

    /// <summary>Base64 samples of malformed messages logged per batch.</summary>
    public int MalformedSamplesPerBatch { get; set; } = 5;

    /// <summary>
    /// Longest the consume loop waits for lake writes (and the clean-up on assignment) before it polls again.
    /// Null: a fifth of the consumer's <c>max.poll.interval.ms</c> (60 s with librdkafka's default 300 s); at most
    /// half of it. A write still running then counts as failed (retried, nothing committed), so a hanging lake
    /// never gets this member evicted from the group while it holds a batch.
    /// </summary>
    public TimeSpan? WriteWaitTimeout { get; set; }

    /// <summary>The wait bound actually used: <see cref="WriteWaitTimeout"/> or the derived one, well under <paramref name="maxPollIntervalMs"/>.</summary>
    public TimeSpan EffectiveWriteWait(int? maxPollIntervalMs)
    {
        var maxPoll = TimeSpan.FromMilliseconds(maxPollIntervalMs ?? 300_000);
        var wait = WriteWaitTimeout ?? maxPoll / 5;
        return wait > maxPoll / 2 ? maxPoll / 2 : wait <= TimeSpan.Zero ? maxPoll / 5 : wait;
    }

    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many producer spans the batch span links to (the first ones of the batch).</summary>
    public int MaxTraceLinksPerBatch { get; set; } = 32;

    public CompactionOptions Compaction { get; set; } = new();

    /// <summary>The schema registry for the Confluent wire format (<c>Events:SchemaRegistry</c>); without a URL, framed messages are read as the contract.</summary>
    public SchemaRegistryOptions SchemaRegistry { get; set; } = new();
}

/// <summary>Where writer schemas of Confluent-framed messages come from, bound from <c>Events:SchemaRegistry</c>.</summary>
public sealed class SchemaRegistryOptions
{
    /// <summary>The registry's base URL (Confluent Schema Registry or the local stand-in); null: no registry.</summary>
    public string? Url { get; set; }

    /// <summary>Bound of one schema fetch (once per schema id; a failure fails the batch's write, which is retried).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public bool IsValid => (Url is null || (Uri.TryCreate(Url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
        && RequestTimeout > TimeSpan.Zero;
}

/// <summary>Compaction of the events lake, bound from <c>Events:Compaction</c>.</summary>
public sealed class CompactionOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>How often the compactor looks at the lake.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A day is closed (gets its final compaction) this long after its end (UTC).</summary>
    public TimeSpan DayLateness { get; set; } = TimeSpan.FromHours(1);

    /// <summary>An open day whose readable files pass this count is compacted too.</summary>
    public int MaxFilesPerDay { get; set; } = 64;

    /// <summary>Size a compacted file aims at; bigger days get several files, each sorted, in customer order.</summary>
    public long TargetFileBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Rows per row group in compacted files: small enough that min/max of customer_id prunes well.</summary>
    public int RowGroupRows { get; set; } = 10_000;

    /// <summary>
    /// Superseded manifests (and outputs of compactions that never switched) stay this long. Replaced data files do
    /// not: they leave the day folder right after the switch, so a plain glob never holds them beside their replacement.
    /// </summary>
    public TimeSpan ReplacedFileGrace { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Days the malformed area keeps (by its Kafka-timestamp day); older days are deleted by the compactor's passes.
    /// Null: kept for ever. Valid events are never deleted.
    /// </summary>
    public int? MalformedRetentionDays { get; set; }

    /// <summary>Only days this recent are looked at (older closed days are final already).</summary>
    public int LookbackDays { get; set; } = 45;
}
