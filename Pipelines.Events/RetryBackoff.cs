namespace CustomerData.Pipelines.Events;

/// <summary>
/// The one backoff of the ingestion (failed batches, a failed clean-up, the lake claim): <see cref="EventsOptions.RetryInitialDelay"/>
/// doubling per attempt up to <see cref="EventsOptions.RetryMaxDelay"/>, on the injected clock.
/// </summary>
internal sealed class RetryBackoff(TimeSpan initialDelay, TimeSpan maxDelay, TimeProvider time)
{
    private int _attempt;

    /// <summary>When the next attempt is due (the start of time before any failure: due at once).</summary>
    public DateTimeOffset NextAttemptAt { get; private set; } = DateTimeOffset.MinValue;

    public bool IsDue => time.GetUtcNow() >= NextAttemptAt;

    /// <summary>The delay before attempt <paramref name="attempt"/> (0: the first retry).</summary>
    public TimeSpan Delay(int attempt) =>
        TimeSpan.FromTicks(Math.Min(maxDelay.Ticks, initialDelay.Ticks << Math.Min(attempt, 20)));

    /// <summary>A first failure: the next attempt after the initial delay.</summary>
    public TimeSpan Restart()
    {
        _attempt = 0;
        return Schedule();
    }

    /// <summary>Another failure in a row: the delay doubles.</summary>
    public TimeSpan Again()
    {
        _attempt++;
        return Schedule();
    }

    private TimeSpan Schedule()
    {
        var delay = Delay(_attempt);
        NextAttemptAt = time.GetUtcNow() + delay;
        return delay;
    }
}
