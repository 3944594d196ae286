using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CustomerData.Pipelines;

/// <summary>When the pipeline's last good cycle finished; both pipelines' health checks judge by it.</summary>
public class PipelineHealthState(TimeProvider time)
{
    private long _lastGoodTicks;

    public DateTimeOffset Started { get; } = time.GetUtcNow();

    public DateTimeOffset? LastGoodCycle
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastGoodTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    public void MarkGood() => Interlocked.Exchange(ref _lastGoodTicks, time.GetUtcNow().UtcTicks);

    /// <summary>Time since the last good cycle, or since start when none finished yet (a fresh process is given the threshold to finish one).</summary>
    public TimeSpan SinceLastGood() => time.GetUtcNow() - (LastGoodCycle ?? Started);

    /// <summary>Healthy while <see cref="SinceLastGood"/> is within <paramref name="threshold"/>, else <paramref name="failureStatus"/>.</summary>
    public HealthCheckResult Evaluate(TimeSpan threshold, HealthStatus failureStatus, IEnumerable<KeyValuePair<string, object>>? extra = null)
    {
        var age = SinceLastGood();
        var last = LastGoodCycle;
        var data = new Dictionary<string, object>
        {
            ["last_good_cycle"] = last?.ToString("O") ?? "none",
            ["age_seconds"] = Math.Round(age.TotalSeconds, 1),
        };
        foreach (var (key, value) in extra ?? []) data[key] = value;
        if (age <= threshold)
        {
            return HealthCheckResult.Healthy(last is null ? "Starting: no cycle finished yet." : $"Last good cycle {age.TotalSeconds:F0} s ago.", data);
        }
        return new HealthCheckResult(failureStatus, $"No good cycle for {age.TotalSeconds:F0} s (threshold {threshold.TotalSeconds:F0} s).", data: data);
    }
}
