using CustomerData.Contracts;
using CustomerData.Cql;

namespace CustomerData.Migrations;

public static class MigrationsExtensions
{
    /// <summary>
    /// Registers the one-shot schema migration: <c>ConnectionStrings:customerdb</c> (MySQL), <c>ConnectionStrings:cassandra</c>
    /// (its keyspace is created if missing, then used by name), the <c>Migrations</c> options and the worker that applies both.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformMigrations(this IHostApplicationBuilder builder)
    {
        var mySql = builder.Configuration.GetConnectionString(PlatformNames.Connections.MySql);
        if (string.IsNullOrWhiteSpace(mySql))
        {
            throw new InvalidOperationException($"ConnectionStrings:{PlatformNames.Connections.MySql} is not set (the MySQL source database).");
        }
        string? keyspace = null;
        // The session connects without a keyspace: a USE of a keyspace that does not exist yet would fail the connect.
        builder.AddCassandraSession(PlatformNames.Connections.Cassandra, options =>
        {
            keyspace = options.Keyspace;
            options.Keyspace = null;
        });
        builder.Services.AddOptions<MigrationsOptions>()
            .BindConfiguration(MigrationsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(new MySqlSchemaTarget(mySql));
        builder.Services.AddSingleton(sp => new CassandraSchemaTarget(sp.GetRequiredService<CqlSession>(), keyspace));
        builder.Services.AddSingleton<PlatformMigrator>();
        builder.Services.AddSingleton<MigrationOutcome>();
        builder.Services.AddHostedService<MigrationWorker>();
        return builder;
    }
}
