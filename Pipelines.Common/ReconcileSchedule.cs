namespace CustomerData.Pipelines.Common;

/// <summary>When the next reconcile pass of a continuous pipeline is due: soon after start, then every interval after a pass.</summary>
public sealed class ReconcileSchedule(TimeSpan interval, TimeProvider time)
{
    // The first pass right after the first cycle: a source changed while the service was down is checked early.
    private DateTimeOffset _next = time.GetUtcNow();

    public TimeSpan Interval => interval;

    public bool IsDue => time.GetUtcNow() >= _next;

    public void Done() => _next = time.GetUtcNow() + interval;
}
