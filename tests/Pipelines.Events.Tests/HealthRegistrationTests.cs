using CustomerData.Pipelines.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events.Tests;

public sealed class HealthRegistrationTests(KafkaFixture kafka)
{
    [Fact]
    public async Task TheKafkaHealthCheckIsOneInstanceForTheHostsLifetimeAndHealthyAgainstTheCluster()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = kafka.Cluster.BootstrapServers,
            ["Lake:Root"] = Path.Combine(Path.GetTempPath(), "cdp-health-" + Guid.NewGuid().ToString("N")),
            // Consumer settings live in the same section; the health check's admin client must cope with them.
            ["Kafka:kafka:Config:session.timeout.ms"] = "30000",
            ["Kafka:kafka:Config:dotnet.consumer.consume.result.fields"] = "all",
        });
        builder.AddEventsPipeline();
        builder.AddKafkaHealthCheck("kafka"); // a second registration of the same connection adds nothing
        using var host = builder.Build(); // not started: only the registrations are under test

        var registrations = host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations;
        var kafkaCheck = Assert.Single(registrations, r => r.Tags.Contains("kafka"));
        Assert.Equal("kafka-kafka", kafkaCheck.Name);
        // The health-check service calls the factory on every probe and never disposes the result: a new check per
        // probe would leak a librdkafka admin client (threads, sockets) each time.
        Assert.Same(kafkaCheck.Factory(host.Services), kafkaCheck.Factory(host.Services));
        var report = await host.Services.GetRequiredService<HealthCheckService>()
            .CheckHealthAsync(r => r.Name == kafkaCheck.Name, TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Healthy, report.Entries[kafkaCheck.Name].Status);
    }
}
