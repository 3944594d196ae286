using System.Diagnostics;
using CustomerData.Contracts;
using CustomerData.Cql;
using CustomerData.Pipelines.Common;
using Microsoft.Extensions.Options;

namespace CustomerData.Migrations;

/// <summary>
/// The platform's schema, applied once: SPEC section 2's MySQL tables (<see cref="SourceSchema"/>) and the Cassandra
/// keyspace and tables of <see cref="ProfileStoreSchema"/>. Every statement is idempotent, so a second run changes nothing.
/// </summary>
public sealed partial class PlatformMigrator(
    MySqlSchemaTarget mySql, CassandraSchemaTarget cassandra, IOptions<MigrationsOptions> options, ILogger<PlatformMigrator> logger)
{
    public static readonly ActivitySource Source = new("CustomerData.Migrations");

    private readonly MigrationsOptions _options = options.Value;

    /// <summary>Applies both; each step is retried while its server is not reachable yet. False when a step gave up.</summary>
    public async Task<bool> ApplyAsync(CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("migrations.apply");
        var retry = new RetrySettings(_options.MaxAttempts, _options.RetryDelay, TimeSpan.FromSeconds(10));
        var ok = await StepAsync("mysql", ct => SourceSchema.ApplyAsync(mySql.ConnectionString, ct), retry, cancellationToken)
              && await StepAsync("cassandra", ApplyCassandraAsync, retry, cancellationToken);
        activity?.SetStatus(ok ? ActivityStatusCode.Ok : ActivityStatusCode.Error);
        return ok;
    }

    /// <summary>The keyspace (when this role may create it) and the tables.</summary>
    public async Task ApplyCassandraAsync(CancellationToken cancellationToken)
    {
        var keyspace = cassandra.Keyspace ?? _options.Keyspace;
        var schemaOptions = new CqlQueryOptions { IsIdempotent = true, Consistency = CqlConsistency.All };
        try
        {
            await cassandra.Session.ExecuteAsync(ProfileStoreSchema.CreateKeyspace(keyspace, _options.ReplicationMap()),
                options: schemaOptions, cancellationToken: cancellationToken);
        }
        catch (CqlServerException ex) when (ex.Code == CqlErrorCode.Unauthorized)
        {
            // Least privilege (containers mode, Kubernetes): the keyspace is the administrator's; the tables are ours.
            LogKeyspaceNotOurs(keyspace);
        }
        foreach (var statement in ProfileStoreSchema.CreateTables(keyspace, _options.ProfileTable))
        {
            await cassandra.Session.ExecuteAsync(statement, options: schemaOptions, cancellationToken: cancellationToken);
        }
        LogCassandraReady(keyspace, _options.ProfileTable);
    }

    private async Task<bool> StepAsync(string name, Func<CancellationToken, Task> step, RetrySettings retry, CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("migrations." + name);
        var started = Stopwatch.GetTimestamp();
        var ok = await OneShotRetry.RunAsync(step, retry,
            onRetry: (ex, attempt, delay) => LogStepRetry(name, ex.GetType().Name, ex.Message, attempt, retry.MaxAttempts, delay.TotalSeconds),
            onGaveUp: (ex, attempts) => LogStepFailed(ex, name, attempts),
            cancellationToken);
        if (ok) LogStepDone(name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        activity?.SetStatus(ok ? ActivityStatusCode.Ok : ActivityStatusCode.Error);
        return ok;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Schema step {Step} applied in {ElapsedMs:F0} ms")]
    private partial void LogStepDone(string step, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schema step {Step} failed with {ErrorType}: {Error} (attempt {Attempt} of {MaxAttempts}); retrying in {DelaySeconds:F1} s")]
    private partial void LogStepRetry(string step, string errorType, string error, int attempt, int maxAttempts, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Schema step {Step} gave up after {Attempts} attempts; the services that wait for this migration will not start")]
    private partial void LogStepFailed(Exception exception, string step, int attempts);

    [LoggerMessage(Level = LogLevel.Information, Message = "Keyspace {Keyspace} is not created by this role (not authorized); expecting it to exist")]
    private partial void LogKeyspaceNotOurs(string keyspace);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cassandra keyspace {Keyspace} has {Table} and its reconcile table")]
    private partial void LogCassandraReady(string keyspace, string table);
}

/// <summary>The MySQL connection string of <c>ConnectionStrings:customerdb</c>.</summary>
public sealed record MySqlSchemaTarget(string ConnectionString);

/// <summary>A session without a keyspace (it may not exist yet) and the keyspace the connection string named, if any.</summary>
public sealed record CassandraSchemaTarget(CqlSession Session, string? Keyspace);

/// <summary>The process's exit code, set by <see cref="MigrationWorker"/>: 0 applied, 1 not.</summary>
public sealed class MigrationOutcome
{
    public int ExitCode { get; set; } = 1;
}
