using System.Globalization;
using CustomerData.Lake;
using CustomerData.Operations;

namespace CustomerData.Pipelines.Summary;

/// <summary>
/// Operator commands of Pipeline B under <c>/admin</c> (scope <c>ops:write</c>):
/// <c>POST /admin/summary/rebuild?fromDate=YYYY-MM-DD&amp;toDate=YYYY-MM-DD</c> backfills or rebuilds exactly those days
/// (<see cref="SummaryPipeline.RebuildDaysAsync"/>, the reconcile pass's repair path; idempotent: each day's file is
/// replaced whole), in the background, one run at a time; <c>GET /admin/summary/rebuild</c> shows its state and progress.
/// </summary>
public static class SummaryAdminEndpoints
{
    public const string RebuildPath = "summary/rebuild";

    /// <summary>Longest range one command may rebuild (ten years): a typo in a year should not start a rebuild of centuries.</summary>
    public const int MaxDays = 3660;

    public static WebApplication MapSummaryAdmin(this WebApplication app)
    {
        var pipeline = app.Services.GetRequiredService<SummaryPipeline>();
        app.MapAdminGroup().MapOperation(RebuildPath, "summary-rebuild", "summary day rebuild", context =>
        {
            if (!TryDay(context.Request.Query["fromDate"], out var from)) return OperationRequest.Invalid("invalid_fromDate_format");
            if (!TryDay(context.Request.Query["toDate"], out var to)) return OperationRequest.Invalid("invalid_toDate_format");
            if (from > to || to.DayNumber - from.DayNumber + 1 > MaxDays) return OperationRequest.Invalid("invalid_date_range");
            return OperationRequest.Of($"{LakeLayout.Day(from)}..{LakeLayout.Day(to)}", async (progress, ct) =>
            {
                var result = await pipeline.RebuildDaysAsync(from, to, new SyncProgress(p =>
                    progress.Report($"{p.DaysDone}/{p.DaysTotal} days, {p.Transactions} transactions", p.DaysTotal == 0 ? null : (double)p.DaysDone / p.DaysTotal)), ct);
                if (result.WasSkipped) throw new TimeoutException("Another instance holds the summary writer lock; try again when its cycle is done.");
                return $"{result.DaysRewritten} days rewritten, {result.DaysDeleted} deleted, {result.TransactionsAggregated} transactions, {result.Rejected} rejected";
            });
        });
        return app;
    }

    private static bool TryDay(string? text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    /// <summary>Reports on the caller's thread (<see cref="Progress{T}"/> would post to the pool, out of order).</summary>
    private sealed class SyncProgress(Action<RebuildProgress> report) : IProgress<RebuildProgress>
    {
        public void Report(RebuildProgress value) => report(value);
    }
}
