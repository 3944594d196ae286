using CustomerData.Cql.DevServer;

[assembly: AssemblyFixture(typeof(CustomerData.TestServers.Fixtures.MariaDbFixture))]
[assembly: AssemblyFixture(typeof(CustomerData.Migrations.Tests.CqlDevServerFixture))]

namespace CustomerData.Migrations.Tests;

/// <summary>One CQL dev server for the test assembly; each test uses a keyspace of its own.</summary>
public sealed class CqlDevServerFixture : IAsyncLifetime
{
    public CqlDevServer Server { get; private set; } = null!;
    public async ValueTask InitializeAsync() => Server = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 });
    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
