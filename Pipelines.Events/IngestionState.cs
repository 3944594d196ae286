using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CustomerData.Pipelines.Events;

/// <summary>What the consume loop tells the rest of the process: health and whether this instance runs compaction.</summary>
public sealed class IngestionState(TimeProvider? time = null)
{
    private readonly Lock _lock = new();

    /// <summary>The recent batches' checks (<c>GET /quality</c>) and their <c>quality.*</c> metrics.</summary>
    public CustomerData.Pipelines.Common.QualityHistory Quality { get; } =
        new("events", EventsTelemetry.Meter, "messages", time ?? TimeProvider.System);
    private string? _degradedReason;

    /// <summary>True while this instance owns the topic's partition 0: that instance is the one compactor.</summary>
    public bool IsCompactionLeader
    {
        get => Volatile.Read(ref _isCompactionLeader);
        set => Volatile.Write(ref _isCompactionLeader, value);
    }
    private bool _isCompactionLeader;

    /// <summary>Batches written and committed since start (tests and the benchmark watch it).</summary>
    public long CommittedBatches => Interlocked.Read(ref _committedBatches);
    private long _committedBatches;

    /// <summary>Messages (valid and malformed) in the batches committed since start.</summary>
    public long CommittedMessages => Interlocked.Read(ref _committedMessages);
    private long _committedMessages;

    public void BatchCommitted(int messages)
    {
        Interlocked.Add(ref _committedMessages, messages);
        Interlocked.Increment(ref _committedBatches);
    }

    /// <summary>When the first message was taken (Stopwatch timestamp, 0 before): the benchmark's start line.</summary>
    public long FirstRecordTimestamp => Interlocked.Read(ref _firstRecordTimestamp);
    private long _firstRecordTimestamp;

    public void RecordSeen()
    {
        if (Interlocked.Read(ref _firstRecordTimestamp) == 0) Interlocked.CompareExchange(ref _firstRecordTimestamp, System.Diagnostics.Stopwatch.GetTimestamp(), 0);
    }

    public void Degrade(string reason)
    {
        lock (_lock) _degradedReason = reason;
    }

    public void Recover()
    {
        lock (_lock) _degradedReason = null;
    }

    public string? DegradedReason
    {
        get { lock (_lock) return _degradedReason; }
    }

    /// <summary>Why the pipeline refused to run (e.g. the lake belongs to another consumer group); null while it runs.</summary>
    public string? FatalError
    {
        get { lock (_lock) return _fatalError; }
    }
    private string? _fatalError;

    public void Fail(string reason)
    {
        lock (_lock) _fatalError = reason;
    }
}

/// <summary>Degraded while batches wait for a retry (lake unreachable, commit failing): the service keeps running. Unhealthy when it refused to run.</summary>
public sealed class EventsIngestionHealthCheck(IngestionState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.FatalError is { } fatal ? HealthCheckResult.Unhealthy("The events pipeline refused to run: " + fatal)
            : state.DegradedReason is { } reason
            ? HealthCheckResult.Degraded("Event batches are waiting for a retry: " + reason)
            : HealthCheckResult.Healthy("Event batches are flowing."));
}
