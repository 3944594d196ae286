using CustomerData.Cql.DevServer;

[assembly: AssemblyFixture(typeof(CustomerData.Cql.Tests.DevServerFixture))]

namespace CustomerData.Cql.Tests;

/// <summary>One in-process CQL dev server (auth on) shared by tests that do not inject faults or restart it.</summary>
public sealed class DevServerFixture : IAsyncLifetime
{
    public const string Username = "cassandra";
    public const string Password = "s3cret-dev";

    public CqlDevServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Server = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0, Username = Username, Password = Password });

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();

    public CqlSessionOptions Options(string? keyspace = null) => CqlSessionOptions.Parse(Server.ConnectionString(keyspace));

    /// <summary>A fresh keyspace per test so tests run in parallel without seeing each other's rows.</summary>
    public async Task<CqlSession> SessionWithKeyspaceAsync(string keyspace)
    {
        var session = await CqlSession.ConnectAsync(Options());
        await session.ExecuteAsync($"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}");
        await session.ExecuteAsync($"USE {keyspace}");
        return session;
    }

    public const string ItemsTable = """
        CREATE TABLE IF NOT EXISTS items (
            id int PRIMARY KEY, name text, amount decimal, seen timestamp, ok boolean,
            ratio double, big bigint, uid uuid, day date)
        """;
}
