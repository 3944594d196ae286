using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CustomerData.Cql.DevServer;

/// <summary>Runs the CQL dev server inside the web host (which serves /health and /alive).</summary>
public sealed class CqlDevServerHost(IOptions<CqlDevServerOptions> options, ILogger<CqlDevServer> logger) : IHostedService, IAsyncDisposable
{
    public CqlDevServer? Server { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken) =>
        Server = await CqlDevServer.StartAsync(options.Value, logger, cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Server is not null) await Server.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
    }
}

/// <summary>Healthy once the CQL listener is bound.</summary>
public sealed class CqlDevServerHealthCheck(CqlDevServerHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.Server is { } server
            ? HealthCheckResult.Healthy($"CQL dev server listening on port {server.Port}")
            : HealthCheckResult.Unhealthy("CQL dev server not started"));
}
