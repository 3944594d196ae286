using CustomerData.Operations;

namespace CustomerData.Pipelines.Profile;

/// <summary>
/// Operator commands of Pipeline A under <c>/admin</c> (scope <c>ops:write</c>): <c>POST /admin/profiles/rebuild</c>
/// recomputes every customer's profile through the same cycle runner as <c>--rebuild</c> (idempotent: upserts), in the
/// background, one run at a time; <c>GET /admin/profiles/rebuild</c> shows its state.
/// </summary>
public static class ProfileAdminEndpoints
{
    public const string RebuildPath = "profiles/rebuild";

    public static WebApplication MapProfileAdmin(this WebApplication app)
    {
        var runner = app.Services.GetRequiredService<ProfileCycleRunner>();
        app.MapAdminGroup().MapOperation(RebuildPath, "profile-rebuild", "profile rebuild", _ => OperationRequest.Of("every customer", async (progress, ct) =>
        {
            progress.Report("recomputing every customer's profile (the runner logs its own progress lines)");
            var result = await runner.RunCycleAsync(CycleMode.Rebuild, ct);
            if (result.Skipped) throw new TimeoutException("Another instance holds the profile writer lock; try again when its cycle is done.");
            if (!result.Succeeded) throw result.Error ?? new InvalidOperationException("The profile rebuild failed.");
            return $"{result.ProfilesWritten} profiles written, {result.Report.TotalRejects} rows rejected, offset {result.OffsetBefore} -> {result.OffsetAfter} in {result.Duration.TotalSeconds:F1} s";
        }));
        return app;
    }
}
