namespace CustomerData.TestServers.Fixtures;

// xunit wrappers around the real servers of tests/TestServers (which stays free of xunit, for the benchmarks).
// Compiled into every *.Tests project (tests/Directory.Build.props); a project picks the ones it needs with
// [assembly: AssemblyFixture(typeof(...))], so each server starts once per test run of that project.

/// <summary>One MariaDB for the test assembly; each test class takes a database of its own.</summary>
public sealed class MariaDbFixture : IAsyncLifetime
{
    public MariaDbServer Server { get; private set; } = null!;
    public async ValueTask InitializeAsync() => Server = await MariaDbServer.StartAsync();
    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>One s3rver (bucket <c>lake</c>) for the test assembly; tests use prefixes of their own.</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public S3rverServer Server { get; private set; } = null!;
    public async ValueTask InitializeAsync() => Server = await S3rverServer.StartAsync();
    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>One librdkafka mock cluster for the test assembly; each test uses topics and groups of its own.</summary>
public sealed class KafkaFixture : IDisposable
{
    public KafkaMockCluster Cluster { get; } = KafkaMockCluster.Start();
    public void Dispose() => Cluster.Dispose();
}
