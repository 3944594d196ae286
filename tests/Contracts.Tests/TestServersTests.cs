using Confluent.Kafka;
using CustomerData.TestServers;

namespace CustomerData.Contracts.Tests;

/// <summary>The fixtures every other test stands on: they start real servers that answer.</summary>
public sealed class TestServersTests(S3rverFixture s3)
{
    [Fact]
    public async Task Kafka_mock_cluster_is_reachable_by_a_separate_client_and_auto_creates_topics()
    {
        using var cluster = KafkaMockCluster.Start();
        var partitions = cluster.EnsureTopic("fixture-check");
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        var delivered = await producer.ProduceAsync("fixture-check", new Message<string, string> { Key = "k", Value = "v" }, TestContext.Current.CancellationToken);

        Assert.True(partitions >= 1);
        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
    }

    [Fact]
    public async Task S3rver_serves_the_lake_bucket()
    {
        using var client = s3.Server.CreateClient();
        await client.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = s3.Server.Bucket, Key = "probe/x.txt", ContentBody = "x" }, TestContext.Current.CancellationToken);
        var listed = await client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = s3.Server.Bucket, Prefix = "probe/" }, TestContext.Current.CancellationToken);
        Assert.Single(listed.S3Objects);
    }

    [Fact]
    public void Missing_tool_error_names_the_package()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => ServerProcess.FindTool("Install it: `apt-get install -y no-such-package`", "no-such-tool-xyz"));
        Assert.Contains("apt-get install -y no-such-package", ex.Message);
    }
}
