using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Profile;

/// <summary>Continuous mode: one incremental cycle, then a pause of <see cref="ProfileOptions.Interval"/>, until shutdown.</summary>
public sealed class ProfileWorker(ProfileCycleRunner runner, IOptions<ProfileOptions> options, TimeProvider time, ILogger<ProfileWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Profile pipeline running continuously, a cycle every {Interval}, a reconcile pass every {ReconcileInterval}",
            options.Value.Interval, options.Value.Reconcile.Interval);
        var reconcile = new CustomerData.Pipelines.Common.ReconcileSchedule(options.Value.Reconcile.Interval, time);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A failed cycle is logged by the runner; the next one retries from the same offset.
                var cycle = await runner.RunCycleAsync(CycleMode.Incremental, stoppingToken);
                if (cycle.Succeeded && reconcile.IsDue)
                {
                    try
                    {
                        await runner.ReconcileAsync(stoppingToken);
                        reconcile.Done();
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                    {
                        // Nothing was lost: the fingerprints still differ, so the next pass redoes it.
                        logger.LogError(ex, "Profile reconcile pass failed; retried after the next cycle");
                    }
                }
                await Task.Delay(options.Value.Interval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
    }
}
