using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Profile;

/// <summary>Unhealthy when no cycle has finished for longer than <see cref="ProfileOptions.MaxCycleAge"/> (counted from start before the first one).</summary>
public sealed class ProfileHealthCheck(ProfileCycleState state, IOptions<ProfileOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var age = TimeSpan.FromSeconds(state.SecondsSinceLastSuccess());
        var data = new Dictionary<string, object>
        {
            ["last_success"] = state.LastSuccess?.ToString("O") ?? "none",
            ["age_seconds"] = Math.Round(age.TotalSeconds, 1),
            ["backlog_transactions"] = state.LastBacklog,
        };
        var result = age <= options.Value.MaxCycleAge
            ? HealthCheckResult.Healthy($"Last good cycle {age.TotalSeconds:F0} s ago", data)
            : new HealthCheckResult(context.Registration.FailureStatus,
                $"No good cycle for {age.TotalSeconds:F0} s (limit {options.Value.MaxCycleAge.TotalSeconds:F0} s)", data: data);
        return Task.FromResult(result);
    }
}
