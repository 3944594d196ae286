using CustomerData.Lake;
using CustomerData.Contracts;
using CustomerData.Pipelines.Common;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Summary;

/// <summary>Continuous mode: a cycle every <see cref="SummaryOptions.Interval"/>; a failed cycle is retried with exponential backoff.</summary>
public sealed class SummaryWorker(
    SummaryPipeline pipeline,
    SummaryHealthState health,
    SummaryTelemetry telemetry,
    IOptions<SummaryOptions> options,
    ILogger<SummaryWorker> logger,
    TimeProvider timeProvider) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var delay = settings.RetryInitialDelay;
        var reconcile = new ReconcileSchedule(settings.Reconcile.Interval, timeProvider);
        logger.LogInformation("Summary pipeline running every {IntervalSeconds} s into {LakeTable}, reconciling every {ReconcileSeconds} s",
            settings.Interval.TotalSeconds, LakeLayout.SummaryTable, settings.Reconcile.Interval.TotalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await pipeline.RunCycleAsync(stoppingToken);
                if (reconcile.IsDue)
                {
                    await pipeline.ReconcileAsync(stoppingToken);
                    reconcile.Done();
                }
                health.MarkGood();
                delay = settings.RetryInitialDelay;
                await Task.Delay(settings.Interval, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // MySQL or the lake unreachable, or a file failed verification: the offset was not moved,
                // and every file already published is whole, so the next attempt simply redoes the work.
                telemetry.CycleFailures.Add(1);
                if (ex is MySqlConnector.MySqlException { ErrorCode: MySqlConnector.MySqlErrorCode.NoSuchTable })
                {
                    logger.LogError("Summary cycle failed: {Error} The Migrations project applies the platform's schema; retrying in {DelaySeconds} s", ex.Message, delay.TotalSeconds);
                }
                else
                {
                    logger.LogError(ex, "Summary cycle failed; retrying in {DelaySeconds} s", delay.TotalSeconds);
                }
                try { await Task.Delay(delay, timeProvider, stoppingToken); }
                catch (OperationCanceledException) { break; }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, settings.RetryMaxDelay.Ticks));
            }
        }
    }
}

/// <summary>The one-shot modes (<c>--once</c>, <c>--rebuild</c>) and what every mode does first.</summary>
public static class SummaryRunner
{
    /// <summary>Runs <paramref name="work"/> up to <see cref="SummaryOptions.MaxAttempts"/> times with backoff; true when it succeeded.</summary>
    public static async Task<bool> RunWithRetryAsync(
        Func<CancellationToken, Task> work, SummaryOptions options, SummaryTelemetry telemetry, ILogger logger, CancellationToken cancellationToken)
    {
        return await OneShotRetry.RunAsync(work, new RetrySettings(options.MaxAttempts, options.RetryInitialDelay, options.RetryMaxDelay),
            onRetry: (ex, attempt, delay) =>
            {
                telemetry.CycleFailures.Add(1);
                logger.LogWarning(ex, "Summary run attempt {Attempt} of {MaxAttempts} failed; retrying in {DelaySeconds} s", attempt, options.MaxAttempts, delay.TotalSeconds);
            },
            onGaveUp: (ex, attempts) =>
            {
                telemetry.CycleFailures.Add(1);
                logger.LogError(ex, "Summary run failed after {Attempts} attempts; offset not advanced", attempts);
            },
            cancellationToken);
    }
}
