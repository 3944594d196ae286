using CustomerData.Cql.DevServer;
using CustomerData.TestServers;

[assembly: AssemblyFixture(typeof(CustomerData.TestServers.Fixtures.MariaDbFixture))]
[assembly: AssemblyFixture(typeof(CustomerData.Pipelines.Profile.Tests.CqlDevServerFixture))]

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>The CQL dev server in this process (port chosen free), shared by the test classes; each uses its own keyspace.</summary>
public sealed class CqlDevServerFixture : IAsyncLifetime
{
    public CqlDevServer Server { get; private set; } = null!;
    public async ValueTask InitializeAsync() => Server = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 });
    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
