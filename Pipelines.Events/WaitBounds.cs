namespace CustomerData.Pipelines.Events;

/// <summary>
/// The bounds of every wait on the consume thread (lake writes, clean-up, Kafka requests), all derived from the write
/// wait (<see cref="EventsOptions.EffectiveWriteWait"/>): a callback or loop turn running past max.poll.interval.ms gets
/// the member evicted. Time is the injected clock's.
/// </summary>
internal sealed class WaitBounds(TimeSpan writeWait, TimeProvider time)
{
    public TimeSpan WriteWait { get; } = writeWait;

    /// <summary>The latest end of a wait that starts now.</summary>
    public DateTimeOffset Deadline() => time.GetUtcNow() + WriteWait;

    /// <summary>Time left until <paramref name="deadline"/> (never negative).</summary>
    public TimeSpan Until(DateTimeOffset deadline) => Min(deadline - time.GetUtcNow(), TimeSpan.MaxValue);

    /// <summary>Bound of a Kafka request from the consume thread (committed offsets, watermarks).</summary>
    public TimeSpan KafkaWait => Min(TimeSpan.FromSeconds(10), WriteWait);

    public static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? (a < TimeSpan.Zero ? TimeSpan.Zero : a) : (b < TimeSpan.Zero ? TimeSpan.Zero : b);

    /// <summary>Runs lake work from the consume thread, never longer than the write wait (then cancelled and reported as failed).</summary>
    public void Run(Func<CancellationToken, Task> work)
    {
        using var timeout = new CancellationTokenSource(WriteWait, time);
        var task = work(timeout.Token);
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(WriteWait))
        {
            timeout.Cancel();
            throw new TimeoutException($"Lake clean-up took longer than {WriteWait}.");
        }
        task.GetAwaiter().GetResult();
    }
}
