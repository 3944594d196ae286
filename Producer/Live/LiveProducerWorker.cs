using Confluent.Kafka;
using CustomerData.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace CustomerData.Producer.Live;

/// <summary>The live data source under the AppHost: schema, a one-time seed of an empty database, then the demo-rate streams.</summary>
public sealed class LiveProducerWorker(
    IOptions<ProducerOptions> options,
    IConfiguration configuration,
    MySqlDataSource dataSource,
    IProducer<string, byte[]> producer,
    LiveStreamSwitch streamSwitch,
    ILogger<LiveProducerWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var runner = new LiveRunner(options.Value,
            configuration.GetConnectionString(PlatformNames.Connections.MySql), dataSource,
            producer, configuration.GetConnectionString(PlatformNames.Connections.Kafka), logger, streamSwitch: streamSwitch);
        logger.LogInformation("Live producer starting: {TxnRate} transactions/s, {EventRate} events/s to {Topic}, malformed share {MalformedRate}",
            options.Value.TxnRate, options.Value.EventRate, options.Value.Topic, options.Value.MalformedRate);
        await runner.RunAsync(seedIfEmpty: options.Value.SeedOnStart, duration: null, stoppingToken);
    }
}
