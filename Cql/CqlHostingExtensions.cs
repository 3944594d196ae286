using CustomerData.Cql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>Settings of <see cref="CqlHostingExtensions.AddCassandraSession"/>, bound from <c>Cassandra:{name}</c>.</summary>
public sealed class CassandraSessionSettings
{
    public string? ConnectionString { get; set; }
    public bool DisableHealthChecks { get; set; }
}

public static class CqlHostingExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="CqlSession"/> from <c>ConnectionStrings:{name}</c>
    /// (<c>Contact Points=host:port[,host:port];Keyspace=..;Username=..;Password=..;Ssl=true</c>),
    /// tuned by the optional section <c>Cassandra:{name}:Session</c> (any <see cref="CqlSessionOptions"/> property),
    /// plus a health check named <c>cassandra-{name}</c>. Traces and metrics use the source and meter
    /// <c>CustomerData.Cql</c> (ServiceDefaults exports every <c>CustomerData.*</c> name).
    /// </summary>
    public static IHostApplicationBuilder AddCassandraSession(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<CqlSessionOptions>? configureOptions = null)
    {
        var settings = new CassandraSessionSettings();
        var section = builder.Configuration.GetSection($"Cassandra:{connectionName}");
        section.Bind(settings);
        if (builder.Configuration.GetConnectionString(connectionName) is { Length: > 0 } cs) settings.ConnectionString = cs;
        if (string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            throw new InvalidOperationException(
                $"Cassandra connection string is missing: set ConnectionStrings:{connectionName} " +
                "(for example \"Contact Points=localhost:9042;Keyspace=customer_data;Username=cassandra;Password=...\").");
        }

        var options = CqlSessionOptions.Parse(settings.ConnectionString);
        section.GetSection("Session").Bind(options);
        configureOptions?.Invoke(options);
        options.Validate();

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sp => new CqlSession(options, sp.GetService<ILogger<CqlSession>>()));

        if (!settings.DisableHealthChecks)
        {
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                $"cassandra-{connectionName}",
                sp => new CqlHealthCheck(sp.GetRequiredService<CqlSession>()),
                failureStatus: default,
                tags: ["ready", "cassandra"],
                timeout: TimeSpan.FromSeconds(5)));
        }
        return builder;
    }
}

/// <summary>Healthy when a connection answers a read of system.local.</summary>
public sealed class CqlHealthCheck(CqlSession session) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var result = await session.ExecuteAsync("SELECT release_version FROM system.local", options: new CqlQueryOptions { Consistency = CqlConsistency.One }, cancellationToken: cancellationToken);
            return result.Rows.Count > 0
                ? HealthCheckResult.Healthy($"Cassandra {result.Rows[0].Get<string?>(0)} (protocol v{session.ProtocolVersion})")
                : new HealthCheckResult(context.Registration.FailureStatus, "system.local returned no row.");
        }
        catch (Exception ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Cassandra is unreachable: " + ex.Message, ex);
        }
    }
}
