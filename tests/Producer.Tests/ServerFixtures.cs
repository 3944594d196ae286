using CustomerData.TestServers;

[assembly: AssemblyFixture(typeof(CustomerData.Producer.Tests.MariaDbFixture))]
[assembly: AssemblyFixture(typeof(CustomerData.Producer.Tests.KafkaFixture))]

namespace CustomerData.Producer.Tests;

public sealed class MariaDbFixture : IAsyncLifetime
{
    public MariaDbServer Server { get; private set; } = null!;
    public async ValueTask InitializeAsync() => Server = await MariaDbServer.StartAsync();
    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

public sealed class KafkaFixture : IDisposable
{
    public KafkaMockCluster Cluster { get; } = KafkaMockCluster.Start();
    public void Dispose() => Cluster.Dispose();
}
