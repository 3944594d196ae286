using Confluent.Kafka;
using CustomerData.TestServers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CustomerData.AppHost.Tests;

/// <summary>The Kafka registration of ServiceDefaults against a real (mock-cluster) broker.</summary>
public sealed class ServiceDefaultsTests
{
    [Fact]
    public async Task Kafka_health_check_is_healthy_against_a_live_cluster_and_reuses_one_client_across_probes()
    {
        using var cluster = KafkaMockCluster.Start();
        using var host = BuildHost(cluster.BootstrapServers);
        var health = host.Services.GetRequiredService<HealthCheckService>();

        for (var probe = 0; probe < 3; probe++)
        {
            var report = await health.CheckHealthAsync(r => r.Name == "kafka-kafka", TestContext.Current.CancellationToken);
            Assert.Equal(HealthStatus.Healthy, report.Entries["kafka-kafka"].Status);
        }

        // The health-check service calls the factory on every probe and never disposes the result.
        var registration = host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single(r => r.Name == "kafka-kafka");
        Assert.Same(registration.Factory(host.Services), registration.Factory(host.Services));
    }

    [Fact]
    public async Task Kafka_health_check_is_unhealthy_when_nothing_listens()
    {
        using var host = BuildHost($"127.0.0.1:{ServerProcess.FreeTcpPort()}");
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var report = await health.CheckHealthAsync(r => r.Name == "kafka-kafka", TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["kafka-kafka"].Status);
    }

    private static IHost BuildHost(string bootstrapServers)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:kafka"] = bootstrapServers });
        builder.AddKafkaProducer<string, string>("kafka");
        return builder.Build();
    }
}
