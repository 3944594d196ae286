using Confluent.Kafka;
using CustomerData.Contracts;
using CustomerData.Operations;
using CustomerData.Producer.Events;
using CustomerData.Producer.Live;

namespace CustomerData.Producer;

/// <summary>The web host of the live mode: health endpoints, telemetry, MySQL and Kafka clients, and the live worker.</summary>
public static class LiveHost
{
    public static WebApplication Build(string[]? args = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args ?? []);
        configure?.Invoke(builder);
        builder.AddServiceDefaults();
        builder.Services.AddOptions<ProducerOptions>().BindConfiguration(ProducerOptions.Section)
            .Validate(o => o.TxnRate >= 0 && o.EventRate >= 0, "Producer:TxnRate and Producer:EventRate cannot be negative.")
            .Validate(o => o.MalformedRate is >= 0 and <= 1, "Producer:MalformedRate is a share between 0 and 1.")
            .Validate(o => o.TraceWindow > TimeSpan.Zero, "Producer:TraceWindow must be positive (for example 00:00:10).")
            .ValidateOnStart();
        builder.AddMySqlDataSource(PlatformNames.Connections.MySql);
        builder.AddKafkaProducer<string, byte[]>(PlatformNames.Connections.Kafka, EventSender.Configure);
        Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton(builder.Services, TimeProvider.System);
        builder.Services.AddSingleton<LiveStreamSwitch>();
        builder.Services.AddHostedService<LiveProducerWorker>();
        builder.AddAdminEndpoints();

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapProducerAdmin();
        return app;
    }

    public static async Task<int> RunAsync()
    {
        await Build().RunAsync();
        return 0;
    }
}
