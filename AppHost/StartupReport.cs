using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Lifecycle;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CustomerData.AppHost;

/// <summary>
/// Logs one line when every resource of the model is healthy (a run-once resource: finished with exit code 0), with the time since the AppHost process
/// started (the stack's start-up time), or names the resources still unhealthy after the bound.
/// </summary>
public static class StartupReport
{
    public static readonly TimeSpan DefaultBound = TimeSpan.FromMinutes(5);

    public static IDistributedApplicationBuilder AddStartupReport(this IDistributedApplicationBuilder builder, TimeSpan? bound = null)
    {
        if (builder.ExecutionContext.IsPublishMode) return builder;
        builder.Eventing.Subscribe<AfterResourcesCreatedEvent>((e, cancellationToken) =>
        {
            var logger = e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CustomerData.AppHost.Startup");
            var notifications = e.Services.GetRequiredService<ResourceNotificationService>();
            var lifetime = e.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>();
            _ = ReportAsync(e.Model, notifications, logger, bound ?? DefaultBound, lifetime.ApplicationStopping);
            return Task.CompletedTask;
        });
        return builder;
    }

    /// <summary>
    /// The resources the dashboard shows as running things: not parameters or connection-string values
    /// (they only hold values), not hidden helpers (such as the projects' rebuilders).
    /// </summary>
    public static IReadOnlyList<IResource> RunnableResources(DistributedApplicationModel model) =>
        model.Resources
            .Where(r => r is not ParameterResource and not ConnectionStringResource)
            // A project's hidden helpers (Aspire 13's rebuilder) are children of the project.
            .Where(r => r is not IResourceWithParent { Parent: ProjectResource })
            .ToList();

    /// <summary>The run-once resources (the migration): another resource waits for their completion, not their health.</summary>
    public static bool IsOneShot(DistributedApplicationModel model, IResource resource) =>
        model.Resources.Any(r => r.Annotations.OfType<WaitAnnotation>()
            .Any(w => w.WaitType == WaitType.WaitForCompletion && ReferenceEquals(w.Resource, resource)));

    /// <summary>Until the resource is healthy or, for a run-once resource, has finished with exit code 0 (a failure throws).</summary>
    public static async Task WaitUntilReadyAsync(ResourceNotificationService notifications, DistributedApplicationModel model, IResource resource, CancellationToken cancellationToken)
    {
        if (!IsOneShot(model, resource))
        {
            await notifications.WaitForResourceHealthyAsync(resource.Name, cancellationToken);
            return;
        }
        var done = await notifications.WaitForResourceAsync(resource.Name,
            e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text) && e.Snapshot.ExitCode is not null, cancellationToken);
        if (done.Snapshot.ExitCode != 0)
        {
            throw new InvalidOperationException($"{resource.Name} ended with exit code {done.Snapshot.ExitCode} ({done.Snapshot.State?.Text}); see its log.");
        }
    }

    private static TimeSpan SinceStart()
    {
        using var self = Process.GetCurrentProcess();
        return DateTime.Now - self.StartTime;
    }

    private static async Task ReportAsync(DistributedApplicationModel model, ResourceNotificationService notifications,
        ILogger logger, TimeSpan bound, CancellationToken stopping)
    {
        var resources = RunnableResources(model);
        logger.LogInformation("Waiting for {Resources} to be healthy", string.Join(", ", resources.Select(r => r.Name)));
        var healthy = new HashSet<string>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(bound);
        try
        {
            await Task.WhenAll(resources.Select(async r =>
            {
                await WaitUntilReadyAsync(notifications, model, r, timeout.Token);
                lock (healthy) healthy.Add(r.Name);
                logger.LogInformation("{Resource} healthy {Seconds:F1} s after the AppHost started", r.Name, SinceStart().TotalSeconds);
            }));
            var sinceStart = SinceStart();
            logger.LogInformation("All {Count} resources healthy {Seconds:F1} s after the AppHost started: {Resources}",
                resources.Count, sinceStart.TotalSeconds, string.Join(", ", resources.Select(r => r.Name)));
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            string[] waiting;
            lock (healthy) waiting = resources.Select(r => r.Name).Where(n => !healthy.Contains(n)).ToArray();
            logger.LogWarning("Not healthy after {Bound}: {Resources}", bound, string.Join(", ", waiting));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not follow the resources' health");
        }
        catch (OperationCanceledException)
        {
            // Shutting down before the stack was up: nothing to report.
        }
    }
}
