using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Summary;

/// <summary>Unhealthy when the last good cycle (or, before the first, the start) is older than <see cref="SummaryOptions.UnhealthyAfter"/>.</summary>
public sealed class SummaryHealthCheck(SummaryHealthState state, IOptions<SummaryOptions> options, TimeProvider timeProvider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var threshold = options.Value.UnhealthyAfter;
        var now = timeProvider.GetUtcNow();
        var last = state.LastGoodCycle;
        var since = last ?? state.StartedAt;
        var data = new Dictionary<string, object> { ["last_good_cycle"] = last?.ToString("O") ?? "none" };
        if (now - since <= threshold)
        {
            return Task.FromResult(HealthCheckResult.Healthy(last is null ? "Starting: no cycle finished yet." : "Last cycle succeeded in time.", data));
        }
        return Task.FromResult(HealthCheckResult.Unhealthy(
            $"No good cycle for {(now - since).TotalSeconds:F0} s (threshold {threshold.TotalSeconds:F0} s).", data: data));
    }
}
