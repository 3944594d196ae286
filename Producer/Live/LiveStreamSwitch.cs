namespace CustomerData.Producer.Live;

/// <summary>
/// The operator's pause of the live stream (<c>POST /admin/live/pause</c>, <c>/resume</c>): while paused, neither
/// transactions nor events are produced; the rate budget restarts on resume, so a pause never turns into a burst.
/// </summary>
public sealed class LiveStreamSwitch(TimeProvider time)
{
    private readonly Lock _lock = new();

    public bool IsPaused { get; private set; }

    /// <summary>When the stream was last paused or resumed (null: never since start).</summary>
    public DateTimeOffset? ChangedUtc { get; private set; }

    /// <summary>Pauses; false when it was paused already (nothing changes: idempotent).</summary>
    public bool Pause() => Set(paused: true);

    /// <summary>Resumes; false when it was running already.</summary>
    public bool Resume() => Set(paused: false);

    private bool Set(bool paused)
    {
        lock (_lock)
        {
            if (IsPaused == paused) return false;
            IsPaused = paused;
            ChangedUtc = time.GetUtcNow();
            return true;
        }
    }
}
