using CustomerData.Contracts;
using CustomerData.Lake;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events;

public static class EventsPipelineExtensions
{
    /// <summary>Registers Pipeline C: options (<c>Events</c>, <c>Lake</c>), the lake, the consume loop, the compactor and health checks.</summary>
    public static IHostApplicationBuilder AddEventsPipeline(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<EventsOptions>().BindConfiguration(EventsOptions.SectionName)
            .Validate(o => o.SchemaRegistry.IsValid, "Events:SchemaRegistry:Url must be an absolute http(s) URL, and RequestTimeout positive.")
            .Validate(o => o.Compaction.MalformedRetentionDays is null or > 0, "Events:Compaction:MalformedRetentionDays must be positive (or unset: keep for ever).")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => WriterSchemaFactory.Create(sp.GetRequiredService<IOptions<EventsOptions>>().Value.SchemaRegistry));
        builder.Services.AddLakeStorage(builder.Configuration);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IngestionState>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IngestionState>().Quality);
        builder.Services.AddSingleton<EventsConsumerFactory>();
        builder.Services.AddSingleton(sp => new EventsCompactor(
            sp.GetRequiredService<ILakeStorage>(), sp.GetRequiredService<IOptions<EventsOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EventsCompactor>>()));
        builder.Services.AddSingleton<EventsLakeReader>();
        builder.Services.AddHostedService<EventsIngestionService>();
        builder.Services.AddHostedService<EventsCompactionService>();

        builder.Services.AddHealthChecks().AddCheck<EventsIngestionHealthCheck>("events-ingestion", HealthStatus.Degraded, ["ready"]);
        // The consumer is built by EventsConsumerFactory (rebalance handlers), so only the shared Kafka health check is added.
        builder.AddKafkaHealthCheck(PlatformNames.Connections.Kafka);
        return builder;
    }
}
