using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Summary;

/// <summary>Unhealthy when the last good cycle (or, before the first, the start) is older than <see cref="SummaryOptions.UnhealthyAfter"/>.</summary>
public sealed class SummaryHealthCheck(SummaryHealthState state, IOptions<SummaryOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.Evaluate(options.Value.UnhealthyAfter, HealthStatus.Unhealthy));
}
