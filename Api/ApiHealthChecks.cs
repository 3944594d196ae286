using CustomerData.Api.Lake;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CustomerData.Api;

/// <summary>
/// <c>lake</c>: Healthy while the listing is fresh; Degraded when listings fail (answers keep the last one), it is
/// older than ten intervals, or a file is unreadable (named). An empty lake is healthy: it answers <c>not-found</c>.
/// </summary>
public sealed class LakeHealthCheck(LakeSnapshotSource snapshots, LakeFileCache cache, LakeReadRoot root, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = snapshots.Current;
        var data = new Dictionary<string, object>
        {
            ["mode"] = root.Mode.ToString(),
            ["summary_days"] = snapshot.SummaryDays.Count,
            ["event_days"] = snapshot.EventDays.Count,
            ["cached_rows"] = cache.CachedRows,
        };
        if (snapshots.LastSuccess == DateTimeOffset.MinValue)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus,
                "The lake has not been listed yet" + (snapshots.LastError is { } e ? ": " + e : "."), data: data));
        }
        var age = time.GetUtcNow() - snapshots.LastSuccess;
        data["listing_age_s"] = Math.Round(age.TotalSeconds, 1);
        if (snapshots.LastError is { } error) return Task.FromResult(HealthCheckResult.Degraded($"Listing the lake fails ({error}); answers are {age.TotalSeconds:F0} s old.", data: data));
        if (age > snapshots.Interval * 10 + TimeSpan.FromSeconds(5)) return Task.FromResult(HealthCheckResult.Degraded($"The lake listing is {age.TotalSeconds:F0} s old.", data: data));
        if (cache.UnreadableFiles is { Count: > 0 } bad) return Task.FromResult(HealthCheckResult.Degraded($"Unreadable lake files: {string.Join(", ", bad.Take(5))}", data: data));
        return Task.FromResult(HealthCheckResult.Healthy($"{snapshot.SummaryDays.Count} summary days, {snapshot.EventDays.Count} event days ({root.Mode}).", data));
    }
}

/// <summary><c>duckdb</c>: Degraded while requests are turned away for want of a connection (since the last probe).</summary>
public sealed class DuckDbHealthCheck(DuckDbPool pool) : IHealthCheck
{
    private long _rejectedAtLastProbe;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var rejected = pool.Rejected;
        var recent = rejected - Interlocked.Exchange(ref _rejectedAtLastProbe, rejected);
        var description = $"{pool.InUse} of {pool.Size} connections busy; {recent} requests turned away since the last probe.";
        return Task.FromResult(recent > 0 ? HealthCheckResult.Degraded(description) : HealthCheckResult.Healthy(description));
    }
}
