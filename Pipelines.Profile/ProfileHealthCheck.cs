using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Profile;

/// <summary>Unhealthy when no cycle has finished for longer than <see cref="ProfileOptions.MaxCycleAge"/> (counted from start before the first one).</summary>
public sealed class ProfileHealthCheck(ProfileCycleState state, IOptions<ProfileOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.Evaluate(options.Value.MaxCycleAge, context.Registration.FailureStatus,
            [new("backlog_transactions", state.LastBacklog)]));
}
