using CustomerData.TestServers;

[assembly: AssemblyFixture(typeof(CustomerData.Pipelines.Summary.Tests.MariaDbFixture))]
[assembly: AssemblyFixture(typeof(CustomerData.Pipelines.Summary.Tests.S3rverFixture))]

namespace CustomerData.Pipelines.Summary.Tests;

public sealed class MariaDbFixture : IAsyncLifetime
{
    public MariaDbServer Server { get; private set; } = null!;
    public async ValueTask InitializeAsync() => Server = await MariaDbServer.StartAsync();
    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

public sealed class S3rverFixture : IAsyncLifetime
{
    public S3rverServer Server { get; private set; } = null!;
    public async ValueTask InitializeAsync() => Server = await S3rverServer.StartAsync();
    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
