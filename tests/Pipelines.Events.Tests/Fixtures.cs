using CustomerData.TestServers;

[assembly: AssemblyFixture(typeof(CustomerData.Pipelines.Events.Tests.KafkaFixture))]

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>One librdkafka mock cluster for the whole test assembly; each test uses topics and groups of its own.</summary>
public sealed class KafkaFixture : IDisposable
{
    public KafkaMockCluster Cluster { get; } = KafkaMockCluster.Start();

    public void Dispose() => Cluster.Dispose();
}

/// <summary>A lake folder of one test, deleted afterwards.</summary>
public sealed class TempLake : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"cdp-events-{Guid.NewGuid():N}");

    public TempLake() => Directory.CreateDirectory(Root);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
