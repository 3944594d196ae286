using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using CustomerData.Contracts;
using CustomerData.Producer.Events;
using CustomerData.Producer.Live;
using CustomerData.Producer.Seeding;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace CustomerData.Producer.Cli;

/// <summary>
/// The command-line verbs: <c>init</c>, <c>seed</c>, <c>run</c>, <c>events</c>. Settings come from configuration
/// (appsettings.json, environment variables such as <c>ConnectionStrings__customerdb</c>); options override them.
/// Exit codes: 0 done, 1 failed (message on stderr), 2 usage error.
/// </summary>
public static class ProducerCli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int UsageError = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var root = BuildRootCommand(error);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var parseError in parseResult.Errors) await error.WriteLineAsync($"error: {parseError.Message}");
            var verb = parseResult.CommandResult.Command == root ? "" : parseResult.CommandResult.Command.Name + " ";
            await error.WriteLineAsync($"Run 'producer {verb}--help' for usage.");
            return UsageError;
        }
        return await parseResult.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }

    private static RootCommand BuildRootCommand(TextWriter error)
    {
        var mysql = new Option<string?>("--mysql") { Description = "MySQL connection string (default: configuration ConnectionStrings:customerdb)." };
        var kafka = new Option<string?>("--kafka") { Description = "Kafka bootstrap servers (default: configuration ConnectionStrings:kafka)." };
        var topic = new Option<string?>("--topic") { Description = $"Kafka topic (default: Producer:Topic, else {PlatformNames.EventsTopic})." };
        var seed = new Option<int?>("--seed") { Description = "Seed of the deterministic generators (default: Producer:Seed, else 42)." };
        var customers = Positive(new Option<int?>("--customers") { Description = "Customers to seed / pick from (default 5000)." });
        var products = Positive(new Option<int?>("--products") { Description = "Products to seed / pick from (default 500)." });
        var transactions = NotNegative(new Option<long?>("--transactions") { Description = "Historical transactions to seed (default 1000000)." });
        var historyStart = new Option<DateOnly?>("--history-start") { Description = "First UTC day of the seeded history, yyyy-MM-dd (default 2020-01-01).", CustomParser = ParseDate };
        var historyEnd = new Option<DateOnly?>("--history-end") { Description = "UTC day the seeded history ends, exclusive, yyyy-MM-dd (default today).", CustomParser = ParseDate };
        var chunkRows = Positive(new Option<int?>("--chunk-rows") { Description = "Transactions per bulk-load chunk (default 100000; rounded to blocks of 10000)." });
        var parallelism = Positive(new Option<int?>("--parallelism") { Description = "Chunks loaded side by side, each on its own connection (default 1; 2 helps only when the server has idle cores)." });
        var loadMethod = new Option<SeedLoadMethod?>("--load-method") { Description = "auto (bulk copy when the server allows LOAD DATA LOCAL), bulkcopy or insert." };
        var txnRate = NotNegative(new Option<double?>("--txn-rate") { Description = "Transactions appended per second (default 20; 0 = none)." });
        var eventRate = NotNegative(new Option<double?>("--event-rate") { Description = "Events sent per second (default 50; 0 = none)." });
        var malformedRate = Share(new Option<double?>("--malformed-rate") { Description = "Share of events (0..1) replaced by malformed messages of every kind (default 0)." });
        var format = new Option<EventFormat?>("--format") { Description = "Event wire format: plain (Avro of the contract, default) or confluent (magic byte, schema id, Avro; needs --schema-registry-url)." };
        var registryUrl = new Option<string?>("--schema-registry-url") { Description = "Schema registry the contract is registered with for --format confluent (default: Producer:SchemaRegistryUrl)." };
        var duration = new Option<TimeSpan?>("--duration") { Description = "Stop after this long (30s, 5m, 1h or hh:mm:ss); default: until Ctrl+C.", CustomParser = ParseDuration };
        var count = Positive(new Option<int>("--count") { Description = "Number of events to send.", Required = true });
        var timeout = new Option<TimeSpan?>("--timeout") { Description = "How long to wait for Kafka to acknowledge the burst (default 60s).", CustomParser = ParseDuration };

        var init = new Command("init", "Apply the MySQL schema (idempotent; creates the database when missing).") { mysql };
        init.SetAction((result, ct) => WithHostAsync(result, error, Overrides(result, (mysql, "ConnectionStrings:" + PlatformNames.Connections.MySql)),
            (services, options, ct2) => InitAsync(services, result.InvocationConfiguration.Output, ct2), ct));

        var seedCommand = new Command("seed", "Apply the schema and load customers, products and the purchase history (deterministic for --seed; resumes a stopped seed).")
        {
            mysql, seed, customers, products, transactions, historyStart, historyEnd, chunkRows, parallelism, loadMethod,
        };
        seedCommand.SetAction((result, ct) => WithHostAsync(result, error, Overrides(result,
                (mysql, "ConnectionStrings:" + PlatformNames.Connections.MySql), (seed, "Producer:Seed"), (customers, "Producer:Customers"),
                (products, "Producer:Products"), (transactions, "Producer:Transactions"), (historyStart, "Producer:HistoryStart"),
                (historyEnd, "Producer:HistoryEnd"), (chunkRows, "Producer:SeedChunkRows"), (parallelism, "Producer:SeedParallelism"), (loadMethod, "Producer:LoadMethod")),
            (services, options, ct2) => SeedAsync(services, options, result.InvocationConfiguration.Output, ct2), ct));

        var run = new Command("run", "Append transactions stamped now and send events at their rates until stopped or --duration (retries MySQL and Kafka with backoff).")
        {
            mysql, kafka, topic, seed, txnRate, eventRate, malformedRate, customers, products, duration, format, registryUrl,
        };
        run.SetAction((result, ct) => WithHostAsync(result, error, Overrides(result,
                (mysql, "ConnectionStrings:" + PlatformNames.Connections.MySql), (kafka, "ConnectionStrings:" + PlatformNames.Connections.Kafka),
                (topic, "Producer:Topic"), (seed, "Producer:Seed"), (txnRate, "Producer:TxnRate"), (eventRate, "Producer:EventRate"),
                (malformedRate, "Producer:MalformedRate"), (customers, "Producer:Customers"), (products, "Producer:Products"),
                (format, "Producer:Format"), (registryUrl, "Producer:SchemaRegistryUrl")),
            (services, options, ct2) => RunLiveAsync(services, options, result.GetValue(duration), result.InvocationConfiguration.Output, ct2), ct));

        var events = new Command("events", "Send a burst of --count events (with --malformed-rate malformed ones) and wait for Kafka to acknowledge them.")
        {
            kafka, topic, count, seed, malformedRate, customers, products, timeout, format, registryUrl,
        };
        events.SetAction((result, ct) => WithHostAsync(result, error, Overrides(result,
                (kafka, "ConnectionStrings:" + PlatformNames.Connections.Kafka), (topic, "Producer:Topic"), (seed, "Producer:Seed"),
                (malformedRate, "Producer:MalformedRate"), (customers, "Producer:Customers"), (products, "Producer:Products"),
                (format, "Producer:Format"), (registryUrl, "Producer:SchemaRegistryUrl")),
            (services, options, ct2) => EventsAsync(services, options, result.GetValue(count), result.GetValue(timeout) ?? TimeSpan.FromSeconds(60),
                result.InvocationConfiguration.Output, ct2), ct));

        return new RootCommand("Customer data platform producer: the MySQL source data and the Kafka behaviour events. " +
                               "Without arguments it runs as the live web host (schema, one-time seed, then a steady stream).")
        {
            init, seedCommand, run, events,
        };
    }

    private static async Task<int> InitAsync(IServiceProvider services, TextWriter output, CancellationToken cancellationToken)
    {
        var connectionString = RequireMySql(services);
        await SourceSchema.ApplyAsync(connectionString, cancellationToken);
        await output.WriteLineAsync($"Schema applied to {Describe(connectionString)}.");
        return Ok;
    }

    private static async Task<int> SeedAsync(IServiceProvider services, ProducerOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var connectionString = RequireMySql(services);
        await SourceSchema.ApplyAsync(connectionString, cancellationToken);
        var seeder = new Seeder(connectionString, services.GetRequiredService<ILoggerFactory>().CreateLogger<Seeder>());
        var result = await seeder.SeedAsync(SeedPlan.From(options, TimeProvider.System), options.LoadMethod, options.SeedChunkRows, liveMode: false, cancellationToken, options.SeedParallelism);
        await output.WriteLineAsync(result.Outcome switch
        {
            SeedOutcome.AlreadySeeded => $"Already seeded ({result.Plan}); nothing written.",
            _ => $"{result.Outcome}: {result.Plan} into {Describe(connectionString)}; {result.TransactionsLoaded:N0} transactions loaded in {result.Elapsed.TotalSeconds:F1} s " +
                 $"({result.TransactionsLoaded / Math.Max(result.Elapsed.TotalSeconds, 1e-3):N0} rows/s).",
        });
        return Ok;
    }

    private static async Task<int> RunLiveAsync(IServiceProvider services, ProducerOptions options, TimeSpan? duration, TextWriter output, CancellationToken cancellationToken)
    {
        var configuration = services.GetRequiredService<IConfiguration>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("CustomerData.Producer.Run");
        var mySql = configuration.GetConnectionString(PlatformNames.Connections.MySql);
        var kafka = configuration.GetConnectionString(PlatformNames.Connections.Kafka);
        if (string.IsNullOrWhiteSpace(mySql) && options.TxnRate > 0) throw new ConfigurationMissingException("MySQL", "--mysql", PlatformNames.Connections.MySql);
        if (string.IsNullOrWhiteSpace(kafka) && options.EventRate > 0) throw new ConfigurationMissingException("Kafka", "--kafka", PlatformNames.Connections.Kafka);
        await using var dataSource = options.TxnRate > 0 ? new MySqlDataSource(mySql!) : null;
        using var producer = options.EventRate > 0 ? BuildProducer(kafka!, logger) : null;
        var runner = new LiveRunner(options, options.TxnRate > 0 ? mySql : null, dataSource, producer, kafka, logger);
        await runner.RunAsync(seedIfEmpty: false, duration, cancellationToken);
        await output.WriteLineAsync($"Appended {runner.TransactionsAppended:N0} transactions; sent {runner.Events?.Produced ?? 0:N0} events " +
                                    $"({runner.Events?.Delivered ?? 0:N0} acknowledged).");
        return Ok;
    }

    private static async Task<int> EventsAsync(IServiceProvider services, ProducerOptions options, int count, TimeSpan timeout, TextWriter output, CancellationToken cancellationToken)
    {
        var kafka = services.GetRequiredService<IConfiguration>().GetConnectionString(PlatformNames.Connections.Kafka);
        if (string.IsNullOrWhiteSpace(kafka)) throw new ConfigurationMissingException("Kafka", "--kafka", PlatformNames.Connections.Kafka);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("CustomerData.Producer.Events");
        using var producer = BuildProducer(kafka, logger);
        var sender = new EventSender(producer, options.Topic, logger);
        if (options.Format == EventFormat.Confluent)
        {
            if (string.IsNullOrWhiteSpace(options.SchemaRegistryUrl)) throw new InvalidOperationException("--format confluent needs --schema-registry-url (or Producer:SchemaRegistryUrl).");
            sender.UseConfluentFraming(await EventSender.RegisterContractAsync(options.SchemaRegistryUrl, options.Topic, cancellationToken));
        }
        var generator = new EventGenerator(options.Seed, options.Customers, options.Products, options.MalformedRate);
        var stopwatch = Stopwatch.StartNew();
        const int batch = 10_000;
        for (var sent = 0; sent < count; sent += batch)
        {
            sender.SendBatch(generator, Math.Min(batch, count - sent), cancellationToken);
        }
        var pending = await Task.Run(() => sender.Flush(timeout), cancellationToken);
        var elapsed = stopwatch.Elapsed;
        if (pending > 0 || sender.Failed > 0)
        {
            throw new KafkaUnavailableException(
                $"Kafka at {kafka} did not acknowledge {pending + sender.Failed} of {count} events within {timeout.TotalSeconds:F0} s " +
                $"(last error: {sender.LastError ?? "none; is the broker reachable?"}).");
        }
        var kinds = string.Join(", ", sender.ProducedByKind.Where(k => k.Value > 0).Select(k => $"{k.Key} {k.Value}"));
        await output.WriteLineAsync($"Sent {count:N0} events to {options.Topic} in {elapsed.TotalSeconds:F1} s ({count / Math.Max(elapsed.TotalSeconds, 1e-3):N0} events/s): {kinds}.");
        return Ok;
    }

    internal static IProducer<string, byte[]> BuildProducer(string bootstrapServers, ILogger logger)
    {
        var config = new ProducerConfig { BootstrapServers = bootstrapServers };
        EventSender.Configure(config);
        // librdkafka reports every reconnect attempt; one line per error code a window is enough to be clear.
        var throttle = new KafkaLogThrottle(TimeProvider.System);
        return new ProducerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, e) =>
            {
                if (!throttle.ShouldLog(e.Code.ToString(), out var suppressed)) return;
                logger.LogWarning("Kafka at {Bootstrap} is unreachable or failing: {Code}: {Reason} ({Suppressed} similar reports held back since the last line)",
                    bootstrapServers, e.Code, e.Reason, suppressed);
            })
            // librdkafka's own log repeats what the error handler reports: keep it at Debug.
            .SetLogHandler((_, m) => logger.LogDebug("librdkafka {Level} {Facility}: {Message}", m.Level, m.Facility, m.Message))
            .Build();
    }

    /// <summary>
    /// Builds a generic host (configuration, logging, OpenTelemetry) for one verb, runs it, and turns the expected
    /// failures into a one-line message and exit code 1.
    /// </summary>
    private static async Task<int> WithHostAsync(ParseResult result, TextWriter error, Dictionary<string, string?> overrides,
        Func<IServiceProvider, ProducerOptions, CancellationToken, Task<int>> verb, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ApplicationName = "Producer",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.ClearProviders();
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.AddServiceDefaults();
        using var host = builder.Build();
        var options = new ProducerOptions();
        builder.Configuration.GetSection(ProducerOptions.Section).Bind(options);
        await host.StartAsync(cancellationToken);
        try
        {
            return await verb(host.Services, options, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("Cancelled.");
            return Failed;
        }
        catch (Exception ex) when (ex is MySqlException || ex.InnerException is MySqlException)
        {
            var connectionString = builder.Configuration.GetConnectionString(PlatformNames.Connections.MySql) ?? "";
            await error.WriteLineAsync($"error: MySQL at {Describe(connectionString)} failed or is unreachable: {ex.Message}");
            return Failed;
        }
        catch (Exception ex) when (ex is SeedConflictException or ConfigurationMissingException or KafkaUnavailableException or InvalidOperationException or ArgumentException)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return Failed;
        }
        finally
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await host.StopAsync(stopTimeout.Token);
        }
    }

    private static string RequireMySql(IServiceProvider services) =>
        services.GetRequiredService<IConfiguration>().GetConnectionString(PlatformNames.Connections.MySql) is { Length: > 0 } cs
            ? cs
            : throw new ConfigurationMissingException("MySQL", "--mysql", PlatformNames.Connections.MySql);

    /// <summary>Server, port and database of a connection string, never the password.</summary>
    private static string Describe(string connectionString)
    {
        try
        {
            var b = new MySqlConnectionStringBuilder(connectionString);
            return $"{b.Server}:{b.Port}/{(string.IsNullOrEmpty(b.Database) ? PlatformNames.Database : b.Database)}";
        }
        catch (ArgumentException)
        {
            return "(unparseable connection string)";
        }
    }

    /// <summary>Only the options given on the command line become configuration overrides.</summary>
    private static Dictionary<string, string?> Overrides(ParseResult result, params (Option Option, string Key)[] map)
    {
        var overrides = new Dictionary<string, string?>();
        foreach (var (option, key) in map)
        {
            if (result.GetResult(option) is not { Implicit: false } optionResult) continue;
            var value = optionResult.GetValueOrDefault<object?>();
            overrides[key] = value switch
            {
                null => null,
                DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString(),
            };
        }
        return overrides;
    }

    private static Option<T> Positive<T>(Option<T> option)
    {
        option.Validators.Add(r =>
        {
            if (ValueOf<T>(r) is { } v && Convert.ToDouble(v, CultureInfo.InvariantCulture) <= 0)
                r.AddError($"Option '{option.Name}' must be greater than 0 (got {v}).");
        });
        return option;
    }

    private static Option<T> NotNegative<T>(Option<T> option)
    {
        option.Validators.Add(r =>
        {
            if (ValueOf<T>(r) is { } v && (Convert.ToDouble(v, CultureInfo.InvariantCulture) is var d && (d < 0 || double.IsNaN(d) || double.IsInfinity(d))))
                r.AddError($"Option '{option.Name}' must be 0 or more (got {v}).");
        });
        return option;
    }

    private static Option<double?> Share(Option<double?> option)
    {
        option.Validators.Add(r =>
        {
            if (ValueOf<double?>(r) is double v && v is not (>= 0 and <= 1))
                r.AddError($"Option '{option.Name}' is a share between 0 and 1 (got {v.ToString(CultureInfo.InvariantCulture)}).");
        });
        return option;
    }

    /// <summary>The option's value, or default when it did not convert (the parser reports that error itself).</summary>
    private static object? ValueOf<T>(OptionResult result)
    {
        try
        {
            return result.GetValueOrDefault<T>();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static DateOnly? ParseDate(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) return date;
        result.AddError($"Option '{OptionName(result)}' expects a date as yyyy-MM-dd (got '{text}').");
        return null;
    }

    internal static TimeSpan? ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value.Trim() : "";
        if (TryParseDuration(text, out var value) && value > TimeSpan.Zero) return value;
        result.AddError($"Option '{OptionName(result)}' expects a positive duration such as 30s, 5m, 1h or 00:01:30 (got '{text}').");
        return null;
    }

    private static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        if (text.Length > 1 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n is > 0 and < 1e7)
        {
            TimeSpan? parsed = char.ToLowerInvariant(text[^1]) switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                _ => null,
            };
            if (parsed is { } p)
            {
                value = p;
                return true;
            }
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
    }

    private static string OptionName(ArgumentResult result) => result.Parent is OptionResult o ? o.Option.Name : "value";

    private sealed class ConfigurationMissingException(string what, string option, string connectionName)
        : Exception($"{what} is not configured: pass {option} or set ConnectionStrings:{connectionName} (environment variable ConnectionStrings__{connectionName}).");

    private sealed class KafkaUnavailableException(string message) : Exception(message);
}
