using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Profile;

/// <summary>Continuous mode: one incremental cycle, then a pause of <see cref="ProfileOptions.Interval"/>, until shutdown.</summary>
public sealed class ProfileWorker(ProfileCycleRunner runner, IOptions<ProfileOptions> options, TimeProvider time, ILogger<ProfileWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Profile pipeline running continuously, a cycle every {Interval}", options.Value.Interval);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A failed cycle is logged by the runner; the next one retries from the same offset.
                await runner.RunCycleAsync(CycleMode.Incremental, stoppingToken);
                await Task.Delay(options.Value.Interval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
    }
}
