using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MySqlConnector;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>Settings of <see cref="MySqlExtensions.AddMySqlDataSource"/>, bound from <c>MySql:{name}</c>.</summary>
public sealed class MySqlConnectorSettings
{
    public string? ConnectionString { get; set; }
    public bool DisableHealthChecks { get; set; }
    public bool DisableTracing { get; set; }
    public bool DisableMetrics { get; set; }
}

/// <summary>
/// Stands in for the Aspire.MySqlConnector integration (not served here): a pooled
/// <see cref="MySqlDataSource"/> from <c>ConnectionStrings:{name}</c>, a health check,
/// and MySqlConnector's own ActivitySource and Meter in OpenTelemetry.
/// </summary>
public static class MySqlExtensions
{
    private const string MySqlConnectorTelemetryName = TelemetryNames.MySqlConnectorSource;

    public static IHostApplicationBuilder AddMySqlDataSource(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<MySqlConnectorSettings>? configureSettings = null)
    {
        var settings = new MySqlConnectorSettings();
        builder.Configuration.GetSection($"MySql:{connectionName}").Bind(settings);
        if (builder.Configuration.GetConnectionString(connectionName) is { Length: > 0 } cs)
        {
            settings.ConnectionString = cs;
        }
        configureSettings?.Invoke(settings);

        if (string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            throw new InvalidOperationException(
                $"MySQL connection string is missing: set ConnectionStrings:{connectionName} " +
                $"(for example \"Server=localhost;Port=3306;User ID=root;Password=...;Database=customer_db\").");
        }

        var connectionString = settings.ConnectionString;
        builder.Services.AddSingleton(sp => new MySqlDataSourceBuilder(connectionString)
            .UseLoggerFactory(sp.GetService<Microsoft.Extensions.Logging.ILoggerFactory>())
            .Build());

        if (!settings.DisableHealthChecks)
        {
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                $"mysql-{connectionName}",
                sp => new MySqlHealthCheck(sp.GetRequiredService<MySqlDataSource>()),
                failureStatus: default,
                tags: ["ready", "mysql"],
                timeout: TimeSpan.FromSeconds(5)));
        }
        if (!settings.DisableTracing)
        {
            builder.Services.AddOpenTelemetry().WithTracing(t => t.AddSource(MySqlConnectorTelemetryName));
        }
        if (!settings.DisableMetrics)
        {
            builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(MySqlConnectorTelemetryName));
        }
        return builder;
    }
}

/// <summary>Healthy when a pooled connection opens and answers a ping.</summary>
public sealed class MySqlHealthCheck(MySqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await connection.PingAsync(cancellationToken)
                ? HealthCheckResult.Healthy()
                : new HealthCheckResult(context.Registration.FailureStatus, "MySQL did not answer the ping.");
        }
        catch (Exception ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "MySQL is unreachable: " + ex.Message, ex);
        }
    }
}
