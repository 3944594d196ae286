using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace CustomerData.AppHost.Tests;

/// <summary>
/// The AppHost in local mode (no container runtime), as CI and this machine run it: every resource
/// reaches healthy within a bound, the projects get the configuration contract, the servers behind the
/// connection strings answer, and the data folder survives a restart.
/// </summary>
public sealed class LocalStackTests
{
    // Generous: CI machines are small and six .NET processes start at once.
    private static readonly TimeSpan s_healthyBound = TimeSpan.FromMinutes(4);

    private static readonly string[] s_expectedResources =
        ["mysql", "kafka", "cassandra", "schema-registry", "migrations", "producer", "pipelines-profile", "pipelines-summary", "pipelines-events", "api"];

    /// <summary>What each project uses of the stack (its own Program.cs registrations).</summary>
    internal static readonly Dictionary<string, string[]> ServicesUsed = new()
    {
        ["migrations"] = ["mysql", "cassandra"],
        ["producer"] = ["mysql", "kafka"],
        ["pipelines-profile"] = ["mysql", "cassandra"],
        ["pipelines-summary"] = ["mysql", "lake"],
        ["pipelines-events"] = ["kafka", "lake"],
        ["api"] = ["cassandra", "lake"],
    };

    private static readonly string[] s_projects =
        ["migrations", "producer", "pipelines-profile", "pipelines-summary", "pipelines-events", "api"];

    [Fact]
    public async Task Every_resource_reaches_healthy_with_the_configuration_contract_and_the_data_folder_survives_a_restart()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var dataFolder = Path.Combine(Path.GetTempPath(), $"cdp-apphost-{Guid.NewGuid():N}");
        var marker = Guid.NewGuid().ToString("N");
        try
        {
            // First start on an empty data folder: MariaDB initialises its datadir.
            await using (var app = await StartLocalStackAsync(dataFolder, cancellationToken))
            {
                var model = app.Services.GetRequiredService<DistributedApplicationModel>();
                var resources = StartupReport.RunnableResources(model);
                Assert.Equal(s_expectedResources.Order(), resources.Select(r => r.Name).Order());
                Assert.DoesNotContain(model.Resources, r => r is ContainerResource);

                await WaitUntilHealthyAsync(app, resources, cancellationToken);

                var mysql = await app.GetConnectionStringAsync("mysql", cancellationToken);
                var kafka = await app.GetConnectionStringAsync("kafka", cancellationToken);
                Assert.False(string.IsNullOrEmpty(mysql));
                Assert.False(string.IsNullOrEmpty(kafka));
                await AssertProjectsGetTheContractAsync(model, mysql!, kafka!, Path.Combine(dataFolder, "lake"));

                await using (var connection = new MySqlConnection(mysql))
                {
                    // The launcher created customer_db and the platform login; Database= in the string proves both.
                    await connection.OpenAsync(cancellationToken);
                    await Execute(connection, "CREATE TABLE IF NOT EXISTS apphost_restart_marker (marker VARCHAR(64) PRIMARY KEY)", cancellationToken);
                    // Least privilege: the services' login has customer_db and nothing server-wide.
                    await using (var grants = new MySqlCommand("SHOW GRANTS", connection))
                    await using (var reader = await grants.ExecuteReaderAsync(cancellationToken))
                    {
                        var lines = new List<string>();
                        while (await reader.ReadAsync(cancellationToken)) lines.Add(reader.GetString(0));
                        Assert.Contains(lines, l => l.Contains("ON `customer_db`.*", StringComparison.Ordinal));
                        Assert.DoesNotContain(lines, l => l.Contains("ON *.*", StringComparison.Ordinal) && !l.StartsWith("GRANT USAGE ON *.*", StringComparison.Ordinal));
                    }
                    await Execute(connection, $"INSERT INTO apphost_restart_marker VALUES ('{marker}')", cancellationToken);
                }

                await AssertKafkaRoundTripAsync(kafka!, cancellationToken);
                await AssertApiAnswersAsync(app, cancellationToken);
            }

            // Second start on the same folder: MariaDB's data is still there.
            await using (var app = await StartLocalStackAsync(dataFolder, cancellationToken))
            {
                var model = app.Services.GetRequiredService<DistributedApplicationModel>();
                await WaitUntilHealthyAsync(app, StartupReport.RunnableResources(model), cancellationToken);
                var mysql = await app.GetConnectionStringAsync("mysql", cancellationToken);
                await using var connection = new MySqlConnection(mysql);
                await connection.OpenAsync(cancellationToken);
                await using var select = new MySqlCommand("SELECT COUNT(*) FROM apphost_restart_marker WHERE marker = @m", connection);
                select.Parameters.AddWithValue("@m", marker);
                Assert.Equal(1L, Convert.ToInt64(await select.ExecuteScalarAsync(cancellationToken)));
            }
        }
        finally
        {
            try { Directory.Delete(dataFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [Fact]
    public async Task A_restart_on_the_same_data_folder_keeps_every_event_of_the_lake_and_stores_none_twice()
    {
        // Local Kafka lives in the AppHost's memory: after a restart the topic is new and the group has no offsets.
        // The lake's own positions must keep every event it held (issue #13: 1,119 of 11,972 were lost before).
        var cancellationToken = TestContext.Current.CancellationToken;
        var dataFolder = Path.Combine(Path.GetTempPath(), $"cdp-apphost-restart-{Guid.NewGuid():N}");
        var lake = Path.Combine(dataFolder, "lake");
        try
        {
            HashSet<string> before;
            await using (var app = await StartLocalStackAsync(dataFolder, cancellationToken))
            {
                await WaitUntilHealthyAsync(app, StartupReport.RunnableResources(app.Services.GetRequiredService<DistributedApplicationModel>()), cancellationToken);
                await WaitForEventsAsync(lake, atLeast: 200, TimeSpan.FromMinutes(3), cancellationToken);
            }
            before = AssertEveryEventOnce(lake);
            Assert.True(before.Count >= 200, $"only {before.Count} events before the restart");

            await using (var app = await StartLocalStackAsync(dataFolder, cancellationToken))
            {
                await WaitUntilHealthyAsync(app, StartupReport.RunnableResources(app.Services.GetRequiredService<DistributedApplicationModel>()), cancellationToken);
                await WaitForEventsAsync(lake, atLeast: before.Count + 200, TimeSpan.FromMinutes(3), cancellationToken);
            }
            var after = AssertEveryEventOnce(lake);
            Assert.Empty(before.Except(after));
            Assert.True(after.Count > before.Count, "the second run stored no new event");
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("KEEP_RESTART_DATA") is null) try { Directory.Delete(dataFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>What a data engineer types first: a plain glob over the events lake. Every event id exactly once.</summary>
    private static HashSet<string> AssertEveryEventOnce(string lake)
    {
        var ids = ReadEventIds(lake);
        var distinct = ids.ToHashSet(StringComparer.Ordinal);
        Assert.Equal(distinct.Count, ids.Count);
        return distinct;
    }

    private static List<string> ReadEventIds(string lake)
    {
        var ids = new List<string>();
        if (!Directory.Exists(Path.Combine(lake, "events")) || !Directory.EnumerateFiles(Path.Combine(lake, "events"), "*.parquet", SearchOption.AllDirectories).Any()) return ids;
        using var connection = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT event_id FROM read_parquet('{lake}/events/*/*.parquet', hive_partitioning = true)";
        using var reader = command.ExecuteReader();
        while (reader.Read()) ids.Add(reader.GetString(0));
        return ids;
    }

    private static async Task WaitForEventsAsync(string lake, int atLeast, TimeSpan bound, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + bound;
        var seen = 0;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                seen = ReadEventIds(lake).Distinct(StringComparer.Ordinal).Count();
                if (seen >= atLeast) return;
            }
            catch (DuckDB.NET.Data.DuckDBException)
            {
                // A file replaced while the glob read it (a compaction switch): read again.
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
        throw new TimeoutException($"The events lake held {seen} events after {bound.TotalSeconds} s, fewer than {atLeast}.");
    }

    internal static async Task<DistributedApplication> StartLocalStackAsync(string dataFolder, CancellationToken cancellationToken)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["Stack:Mode=local", $"Stack:DataPath={dataFolder}"], cancellationToken);
        var app = await builder.BuildAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_healthyBound);
        await app.StartAsync(timeout.Token);
        return app;
    }

    internal static async Task WaitUntilHealthyAsync(DistributedApplication app, IReadOnlyList<IResource> resources, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_healthyBound);
        var healthy = new List<string>();
        var clock = Stopwatch.StartNew();
        try
        {
            await Task.WhenAll(resources.Select(async r =>
            {
                await StartupReport.WaitUntilReadyAsync(app.ResourceNotifications, app.Services.GetRequiredService<DistributedApplicationModel>(), r, timeout.Token);
                lock (healthy) healthy.Add(r.Name);
            }));
            TestContext.Current.SendDiagnosticMessage($"All {resources.Count} resources healthy after {clock.Elapsed.TotalSeconds:F1} s.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var states = resources.Select(r => app.ResourceNotifications.TryGetCurrentState(r.Name, out var e)
                ? $"{r.Name}: {e.Snapshot.State?.Text} / {e.Snapshot.HealthStatus}"
                : $"{r.Name}: no state");
            Assert.Fail($"Not every resource was healthy within {s_healthyBound}:\n{string.Join("\n", states)}");
        }
    }

    private static async Task AssertProjectsGetTheContractAsync(DistributedApplicationModel model, string mysql, string kafka, string lakeFolder)
    {
        foreach (var name in s_projects)
        {
            var project = Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == name));
#pragma warning disable CS0618 // Obsolete in 13.x for ExecutionConfigurationBuilder; this one still resolves what DCP would pass.
            var env = await project.GetEnvironmentVariableValuesAsync(DistributedApplicationOperation.Run);
#pragma warning restore CS0618
            // Each project gets exactly what it uses (the AppHost as eShop's: a reference and a wait per backing service).
            var uses = ServicesUsed[name];
            Assert.Equal(uses.Contains("mysql"), env.ContainsKey("ConnectionStrings__customerdb"));
            Assert.Equal(uses.Contains("kafka"), env.ContainsKey("ConnectionStrings__kafka"));
            Assert.Equal(uses.Contains("cassandra"), env.ContainsKey("ConnectionStrings__cassandra"));
            Assert.Equal(uses.Contains("lake"), env.ContainsKey("Lake__Root"));
            if (uses.Contains("mysql")) Assert.Equal(mysql, env["ConnectionStrings__customerdb"]);
            Assert.Contains("Database=customer_db", mysql);
            if (uses.Contains("kafka")) Assert.Equal(kafka, env["ConnectionStrings__kafka"]);
            if (uses.Contains("cassandra")) Assert.Matches(@"^Contact Points=127\.0\.0\.1:\d+;Keyspace=customer_data;Username=platform;Password=\w+$", env["ConnectionStrings__cassandra"]);
            if (uses.Contains("lake")) Assert.Equal(lakeFolder, env["Lake__Root"]);
            Assert.True(env.ContainsKey("OTEL_EXPORTER_OTLP_ENDPOINT") || env.ContainsKey("OTEL_SERVICE_NAME"),
                $"{name} is set up to send telemetry");
        }
        // Local mode: a change in MySQL reaches both pipelines' outputs within 2 minutes (issue #14).
        foreach (var (name, key) in new[] { ("pipelines-summary", "Summary__Reconcile__Interval"), ("pipelines-profile", "Profile__Reconcile__Interval") })
        {
            var project = Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == name));
#pragma warning disable CS0618 // as above
            var env = await project.GetEnvironmentVariableValuesAsync(DistributedApplicationOperation.Run);
#pragma warning restore CS0618
            Assert.True(TimeSpan.Parse(env[key], System.Globalization.CultureInfo.InvariantCulture) <= TimeSpan.FromMinutes(2), $"{name}: {key}={env[key]}");
        }
    }

    /// <summary>The in-process mock cluster behind the <c>kafka</c> connection string stores and serves messages.</summary>
    /// <summary>The api resource serves the contract's envelope (a data route without a token: 401) and its OpenAPI document through the endpoint the AppHost gave it.</summary>
    private static async Task AssertApiAnswersAsync(DistributedApplication app, CancellationToken cancellationToken)
    {
        using var http = app.CreateHttpClient("api", "http");
        var bad = await http.GetAsync("/customer/abc", cancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Equal("""{"status":"error","message":"unauthorized","data":{}}""", await bad.Content.ReadAsStringAsync(cancellationToken));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/openapi/v1.json", cancellationToken)).StatusCode);
        // The platform's data-quality report needs analytics:read; each pipeline serves its own through its endpoint (issue 17).
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.GetAsync("/quality", cancellationToken)).StatusCode);
        foreach (var (resource, pipeline) in new[] { ("pipelines-profile", "profile"), ("pipelines-summary", "summary"), ("pipelines-events", "events") })
        {
            using var client = app.CreateHttpClient(resource, "http");
            using var report = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/quality", cancellationToken));
            Assert.Equal(pipeline, report.RootElement.GetProperty("pipeline").GetString());
        }
    }

    private static async Task AssertKafkaRoundTripAsync(string bootstrapServers, CancellationToken cancellationToken)
    {
        const string topic = "apphost-test";
        var value = Guid.NewGuid().ToString("N");
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrapServers }).Build())
        {
            var delivery = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = value }, cancellationToken);
            Assert.Equal(PersistenceStatus.Persisted, delivery.Status);
        }
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "apphost-test-" + value,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        // Six services run beside this consumer on a small machine: its group join can be slow.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string? received = null;
        while (received != value && DateTime.UtcNow < deadline)
        {
            received = consumer.Consume(TimeSpan.FromSeconds(1))?.Message.Value ?? received;
        }
        consumer.Close();
        Assert.Equal(value, received);
    }

    private static async Task Execute(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
