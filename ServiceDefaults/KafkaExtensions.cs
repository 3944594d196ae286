using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Metrics;

namespace Microsoft.Extensions.Hosting;

/// <summary>Settings of the Kafka registrations, bound from <c>Kafka:{name}</c>.</summary>
public sealed class KafkaSettings
{
    /// <summary>Bootstrap servers; <c>ConnectionStrings:{name}</c> wins when set.</summary>
    public string? ConnectionString { get; set; }
    public bool DisableHealthChecks { get; set; }
    public bool DisableMetrics { get; set; }
    /// <summary>Any librdkafka property (for example <c>Config:compression.type</c>).</summary>
    public Dictionary<string, string> Config { get; set; } = [];
}

/// <summary>
/// Stands in for the Aspire.Confluent.Kafka integration (not served here): producers and
/// consumers from <c>ConnectionStrings:{name}</c>, a health check that asks the cluster
/// for metadata, and librdkafka statistics as OpenTelemetry metrics.
/// </summary>
public static class KafkaExtensions
{
    public const string MeterName = TelemetryNames.PlatformMeterPrefix + "Kafka";

    public static IHostApplicationBuilder AddKafkaProducer<TKey, TValue>(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<ProducerConfig>? configure = null,
        Action<IServiceProvider, ProducerBuilder<TKey, TValue>>? configureBuilder = null)
    {
        var settings = ReadSettings(builder, connectionName);
        builder.Services.AddSingleton(sp =>
        {
            var config = new ProducerConfig(new Dictionary<string, string>(settings.Config))
            {
                BootstrapServers = settings.ConnectionString,
            };
            if (!settings.DisableMetrics) config.StatisticsIntervalMs ??= 5000;
            configure?.Invoke(config);
            var producerBuilder = new ProducerBuilder<TKey, TValue>(config);
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Confluent.Kafka.Producer");
            var throttle = new KafkaLogThrottle(TimeProvider.System);
            producerBuilder.SetLogHandler((_, m) => LogLibrdkafka(logger, throttle, m));
            producerBuilder.SetErrorHandler((_, e) => LogError(logger, throttle, "producer", e));
            if (!settings.DisableMetrics) producerBuilder.SetStatisticsHandler((_, json) => KafkaStatistics.Record(json));
            configureBuilder?.Invoke(sp, producerBuilder);
            return producerBuilder.Build();
        });
        AddCommon(builder, connectionName, settings);
        return builder;
    }

    public static IHostApplicationBuilder AddKafkaConsumer<TKey, TValue>(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<ConsumerConfig>? configure = null,
        Action<IServiceProvider, ConsumerBuilder<TKey, TValue>>? configureBuilder = null)
    {
        var settings = ReadSettings(builder, connectionName);
        builder.Services.AddSingleton(sp =>
        {
            var config = new ConsumerConfig(new Dictionary<string, string>(settings.Config))
            {
                BootstrapServers = settings.ConnectionString,
            };
            if (!settings.DisableMetrics) config.StatisticsIntervalMs ??= 5000;
            configure?.Invoke(config);
            var consumerBuilder = new ConsumerBuilder<TKey, TValue>(config);
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Confluent.Kafka.Consumer");
            var throttle = new KafkaLogThrottle(TimeProvider.System);
            consumerBuilder.SetLogHandler((_, m) => LogLibrdkafka(logger, throttle, m));
            consumerBuilder.SetErrorHandler((_, e) => LogError(logger, throttle, "consumer", e));
            if (!settings.DisableMetrics) consumerBuilder.SetStatisticsHandler((_, json) => KafkaStatistics.Record(json));
            configureBuilder?.Invoke(sp, consumerBuilder);
            return consumerBuilder.Build();
        });
        AddCommon(builder, connectionName, settings);
        return builder;
    }

    private static KafkaSettings ReadSettings(IHostApplicationBuilder builder, string connectionName)
    {
        var settings = new KafkaSettings();
        builder.Configuration.GetSection($"Kafka:{connectionName}").Bind(settings);
        if (builder.Configuration.GetConnectionString(connectionName) is { Length: > 0 } cs)
        {
            settings.ConnectionString = cs;
        }
        if (string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            throw new InvalidOperationException(
                $"Kafka bootstrap servers are missing: set ConnectionStrings:{connectionName} (for example \"localhost:9092\").");
        }
        return settings;
    }

    /// <summary>
    /// Adds the health check <c>kafka-{connectionName}</c> (tags <c>ready</c>, <c>kafka</c>): Healthy when the cluster
    /// answers a metadata request. For services that build their own Kafka clients; the producer and consumer
    /// registrations add it themselves. Added once per connection name, however often it is called.
    /// </summary>
    public static IHostApplicationBuilder AddKafkaHealthCheck(this IHostApplicationBuilder builder, string connectionName)
    {
        var settings = ReadSettings(builder, connectionName);
        if (!settings.DisableHealthChecks) AddHealthCheck(builder, connectionName, settings);
        return builder;
    }

    private static void AddCommon(IHostApplicationBuilder builder, string connectionName, KafkaSettings settings)
    {
        if (!settings.DisableHealthChecks) AddHealthCheck(builder, connectionName, settings);
        if (!settings.DisableMetrics)
        {
            builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(MeterName));
        }
    }

    private static void AddHealthCheck(IHostApplicationBuilder builder, string connectionName, KafkaSettings settings)
    {
        var healthCheckName = $"kafka-{connectionName}";
        if (builder.Services.Any(d => d.ServiceType == typeof(KafkaHealthCheck) && Equals(d.ServiceKey, healthCheckName))) return;
        // The client settings (security, timeouts) apply to the admin client too; Confluent's own "dotnet.*" keys belong
        // to the producer or consumer wrapper, and an admin client refuses them.
        var config = new AdminClientConfig(settings.Config.Where(kv => !kv.Key.StartsWith("dotnet.", StringComparison.Ordinal)).ToDictionary())
        {
            BootstrapServers = settings.ConnectionString,
        };
        // One instance for the app's lifetime, disposed with it: the health-check service calls the registration's
        // factory on every probe and never disposes what it returns, so a new instance per probe would leak a
        // librdkafka handle (threads, sockets).
        builder.Services.AddKeyedSingleton(healthCheckName, (_, _) => new KafkaHealthCheck(config));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckName, sp => sp.GetRequiredKeyedService<KafkaHealthCheck>(healthCheckName), default, ["ready", "kafka"], TimeSpan.FromSeconds(5)));
    }

    private static void LogLibrdkafka(ILogger logger, KafkaLogThrottle throttle, LogMessage m)
    {
        var level = m.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical or SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        // While a broker is down librdkafka reports every reconnect attempt: one line per facility per window.
        var suppressed = 0;
        if (level >= LogLevel.Warning && !throttle.ShouldLog("log:" + m.Facility, out suppressed))
        {
            return;
        }
        logger.Log(level, "librdkafka {Facility}: {Message} ({Suppressed} similar lines suppressed)", m.Facility, m.Message, suppressed);
    }

    private static void LogError(ILogger logger, KafkaLogThrottle throttle, string client, Error e)
    {
        if (!throttle.ShouldLog("error:" + e.Code, out var suppressed)) return;
        logger.LogWarning("Kafka {Client} error {Code}: {Reason} ({Suppressed} similar errors suppressed)", client, e.Code, e.Reason, suppressed);
    }

}

/// <summary>
/// Lets the first report of a kind through and then at most one per <see cref="Window"/>, counting the
/// ones it held back, so a broker outage gives a steady trickle of log lines instead of a flood.
/// </summary>
public sealed class KafkaLogThrottle(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);
    private readonly Dictionary<string, (DateTimeOffset LoggedAt, int Suppressed)> _byKind = [];
    private readonly Lock _lock = new();

    /// <summary>True when a report of <paramref name="kind"/> should be logged now, with how many were held back since the last one.</summary>
    public bool ShouldLog(string kind, out int suppressedSinceLast)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_byKind.TryGetValue(kind, out var last) && now - last.LoggedAt < Window)
            {
                _byKind[kind] = (last.LoggedAt, last.Suppressed + 1);
                suppressedSinceLast = 0;
                return false;
            }
            suppressedSinceLast = last.Suppressed;
            _byKind[kind] = (now, 0);
            return true;
        }
    }
}

/// <summary>Healthy when the cluster answers a metadata request with at least one broker.</summary>
public sealed class KafkaHealthCheck(AdminClientConfig config) : IHealthCheck, IDisposable
{
    // Failures are reported through the check's result; librdkafka's own log lines would only repeat them on stderr.
    private readonly Lock _lock = new();
    private IAdminClient? _admin;

    // Built on first use, once; a client that failed to build is tried again on the next probe rather than kept as failed.
    private IAdminClient Admin()
    {
        lock (_lock) return _admin ??= new AdminClientBuilder(config).SetLogHandler((_, _) => { }).Build();
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            // GetMetadata blocks; run it off the request thread with a short bound.
            var metadata = await Task.Run(() => Admin().GetMetadata(TimeSpan.FromSeconds(3)), cancellationToken);
            return metadata.Brokers.Count > 0
                ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s)")
                : new HealthCheckResult(context.Registration.FailureStatus, "Kafka metadata lists no broker.");
        }
        catch (KafkaException ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Kafka is unreachable: " + ex.Message, ex);
        }
    }

    public void Dispose()
    {
        lock (_lock) _admin?.Dispose();
    }
}

/// <summary>librdkafka's periodic statistics (JSON) as OpenTelemetry gauges, per client name.</summary>
public static class KafkaStatistics
{
    private static readonly Meter s_meter = new(KafkaExtensions.MeterName);
    private static readonly Dictionary<string, (long QueueMessages, long ConsumerLag, long TxMessages, long RxMessages)> s_latest = [];
    private static readonly Lock s_lock = new();

    static KafkaStatistics()
    {
        s_meter.CreateObservableGauge("messaging.kafka.client.queue.messages", () => Observe(v => v.QueueMessages), description: "Messages waiting in the client's queues.");
        s_meter.CreateObservableGauge("messaging.kafka.consumer.lag", () => Observe(v => v.ConsumerLag), description: "Messages behind the partitions' high watermark, summed over assigned partitions.");
        s_meter.CreateObservableGauge("messaging.kafka.client.tx.messages", () => Observe(v => v.TxMessages), description: "Messages sent since the client started.");
        s_meter.CreateObservableGauge("messaging.kafka.client.rx.messages", () => Observe(v => v.RxMessages), description: "Messages received since the client started.");
    }

    private static IEnumerable<Measurement<long>> Observe(Func<(long QueueMessages, long ConsumerLag, long TxMessages, long RxMessages), long> pick)
    {
        lock (s_lock)
        {
            return s_latest.Select(kv => new Measurement<long>(pick(kv.Value), new KeyValuePair<string, object?>("messaging.client_id", kv.Key))).ToList();
        }
    }

    public static void Record(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var name = root.GetProperty("name").GetString() ?? "kafka";
            long lag = 0;
            if (root.TryGetProperty("topics", out var topics))
            {
                foreach (var topic in topics.EnumerateObject())
                {
                    if (!topic.Value.TryGetProperty("partitions", out var partitions)) continue;
                    foreach (var p in partitions.EnumerateObject())
                    {
                        if (p.Value.TryGetProperty("consumer_lag", out var l) && l.GetInt64() > 0) lag += l.GetInt64();
                    }
                }
            }
            var values = (root.GetProperty("msg_cnt").GetInt64(), lag, root.GetProperty("txmsgs").GetInt64(), root.GetProperty("rxmsgs").GetInt64());
            lock (s_lock) s_latest[name] = values;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Statistics are best effort: a format change must never disturb the client.
        }
    }
}

/// <summary>W3C trace context in Kafka headers, so one trace spans producer, broker and consumer.</summary>
public static class KafkaTraceContext
{
    // Explicit, not Propagators.DefaultTextMapPropagator: that one is a no-op until an SDK is built.
    private static readonly TextMapPropagator s_propagator =
        new CompositeTextMapPropagator([new TraceContextPropagator(), new BaggagePropagator()]);

    public static void Inject(Activity? activity, Headers headers)
    {
        if (activity is null) return;
        s_propagator.Inject(
            new PropagationContext(activity.Context, Baggage.Current),
            headers,
            static (h, key, value) =>
            {
                h.Remove(key);
                h.Add(key, Encoding.UTF8.GetBytes(value));
            });
    }

    /// <summary>The producer's span context from the headers, or default when there is none.</summary>
    public static ActivityContext Extract(Headers? headers)
    {
        if (headers is null) return default;
        var context = s_propagator.Extract(default, headers, static (h, key) =>
            h.TryGetLastBytes(key, out var bytes) ? [Encoding.UTF8.GetString(bytes)] : []);
        return context.ActivityContext;
    }
}
