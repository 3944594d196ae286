namespace CustomerData.Migrations;

/// <summary>Runs the migration once, records the outcome, and stops the host (a job, not a service).</summary>
public sealed class MigrationWorker(PlatformMigrator migrator, MigrationOutcome outcome, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            outcome.ExitCode = await migrator.ApplyAsync(stoppingToken) ? 0 : 1;
        }
        finally
        {
            lifetime.StopApplication();
        }
    }
}
