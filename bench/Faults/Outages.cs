using System.Net;
using CustomerData.Bench.Api;
using CustomerData.Lake;

namespace CustomerData.Bench.Faults;

/// <summary>
/// A backing service down while data flows: MariaDB restarted, s3rver and the Kafka cluster unreachable for a while, the
/// CQL server restarted. Each service must show it on /health, recover by itself (no restart of the service) and lose
/// nothing: after the data stops its output equals an undisturbed run's, or every acknowledged event once.
/// </summary>
public sealed class Outages(FaultStack stack, TimeSpan downtime)
{
    public async Task<List<FaultResult>> MariaDbRestartAsync()
    {
        var mySql = await stack.NewSourceAsync("maria");
        await using var cql = await stack.StartCqlAsync(Path.Combine(stack.Folder("maria"), "cql.data"));
        await FaultStack.MigrateAsync(mySql, cql);
        var folder = stack.Folder("maria-lake");
        await using var profile = new ChildService("maria-profile", "Pipelines.Profile", FaultStack.ProfileEnvironment(mySql, cql), stack.Folder("logs"));
        await using var summary = new ChildService("maria-summary", "Pipelines.Summary", FaultStack.SummaryEnvironment(mySql, FaultStack.LocalLake(folder)), stack.Folder("logs"));
        await StartAllAsync(profile, summary);
        await using var health = new HealthWatch(profile, summary);
        await using var flow = await TransactionFlow.StartAsync(mySql, FaultStack.Customers, batch: 200, pause: TimeSpan.FromMilliseconds(200));
        await Task.Delay(TimeSpan.FromSeconds(5));
        // Cycles run every second with data flowing, so the kill lands in or between cycles of both.
        var from = health.Now;
        var outage = TimeSpan.FromSeconds(Math.Min(10, downtime.TotalSeconds));
        await stack.MariaDb.RestartAsync(outage);
        var back = health.Now;
        await Task.Delay(TimeSpan.FromSeconds(10));
        var last = await flow.StopAsync();
        var profileCaughtUp = await Convergence.WaitForOffsetAsync(mySql, "profile_offsets", "last_txn_id", last, TimeSpan.FromSeconds(120));
        var summaryCaughtUp = await Convergence.WaitForOffsetAsync(mySql, "txn_summary_offsets", "last_txnid", last, TimeSpan.FromSeconds(120));
        await Task.WhenAll(profile.WaitHealthyAsync(TimeSpan.FromSeconds(60)), summary.WaitHealthyAsync(TimeSpan.FromSeconds(60)));
        await Task.Delay(500);
        var fault = $"MariaDB killed and started again after {outage.TotalSeconds:F0} s, data flowing (the flow retried {flow.FailedLoads} loads)";
        return
        [
            await Row("MariaDB restarted: Pipeline A", fault, health, profile, from, back, $"caught up {profileCaughtUp:F1} s after the data stopped",
                async () => { await profile.Kill9Async(); return Outputs.Compare(await Outputs.ProfileRowsAsync(cql.ConnectionString()), await Convergence.UndisturbedProfilesAsync(stack, mySql, "maria"), "profiles"); }),
            await Row("MariaDB restarted: Pipeline B", fault, health, summary, from, back, $"caught up {summaryCaughtUp:F1} s after the data stopped",
                async () => { await summary.Kill9Async(); return Outputs.Compare(await Outputs.SummaryRowsAsync(new LocalFolderLakeStorage(folder)), await Convergence.UndisturbedSummaryAsync(stack, mySql, "maria"), "summary rows"); }),
        ];
    }

    public async Task<List<FaultResult>> S3DownAsync()
    {
        var mySql = await stack.NewSourceAsync("s3down");
        const string topic = "faults-s3-down";
        stack.Kafka.EnsureTopic(topic);
        await using var summary = new ChildService("s3-summary", "Pipelines.Summary", FaultStack.SummaryEnvironment(mySql, stack.S3Lake("s3-b")), stack.Folder("logs"));
        await using var events = new ChildService("s3-events", "Pipelines.Events", stack.EventsEnvironment(topic, stack.S3Lake("s3-c")), stack.Folder("logs"));
        await StartAllAsync(summary, events);
        await using var health = new HealthWatch(summary, events);
        await using var transactions = await TransactionFlow.StartAsync(mySql, FaultStack.Customers, batch: 200, pause: TimeSpan.FromMilliseconds(200));
        await using var eventFlow = new EventFlow(stack.Kafka.BootstrapServers, topic, eventsPerSecond: 1_000);
        await Task.Delay(TimeSpan.FromSeconds(5));
        var from = health.Now;
        stack.S3Network.SetDown(true);
        await Task.Delay(downtime);
        stack.S3Network.SetDown(false);
        var back = health.Now;
        await Task.Delay(TimeSpan.FromSeconds(10));
        var last = await transactions.StopAsync();
        var delivered = await eventFlow.StopAsync();
        var summaryCaughtUp = await Convergence.WaitForOffsetAsync(mySql, "txn_summary_offsets", "last_txnid", last, TimeSpan.FromSeconds(180));
        var (eventsSeconds, ids) = await Convergence.WaitForEventsAsync(stack.S3Storage("s3-c"), delivered.Count, TimeSpan.FromSeconds(180));
        await Task.WhenAll(summary.WaitHealthyAsync(TimeSpan.FromSeconds(60)), events.WaitHealthyAsync(TimeSpan.FromSeconds(60)));
        var fault = $"S3 endpoint unreachable {downtime.TotalSeconds:F0} s (connections cut, port closed), then back; data flowing";
        return
        [
            await Row("S3 (s3rver) unreachable: Pipeline B (S3 lake)", fault, health, summary, from, back, $"caught up {summaryCaughtUp:F1} s after the data stopped",
                async () => { await summary.Kill9Async(); return Outputs.Compare(await Outputs.SummaryRowsAsync(stack.S3Storage("s3-b")), await Convergence.UndisturbedSummaryAsync(stack, mySql, "s3down"), "summary rows"); }),
            await Row("S3 (s3rver) unreachable: Pipeline C (S3 lake)", fault, health, events, from, back, $"all in the lake {eventsSeconds:F1} s after the data stopped",
                () => Task.FromResult(Outputs.Compare(ids, [.. delivered.Order(StringComparer.Ordinal)], "events"))),
        ];
    }

    public async Task<FaultResult> KafkaDownAsync()
    {
        const string topic = "faults-kafka-down";
        stack.Kafka.EnsureTopic(topic);
        var folder = stack.Folder("kafka-down-lake");
        await using var events = new ChildService("kafka-events", "Pipelines.Events", stack.EventsEnvironment(topic, FaultStack.LocalLake(folder)), stack.Folder("logs"));
        await StartAllAsync(events);
        await using var health = new HealthWatch(events);
        await using var flow = new EventFlow(stack.Kafka.BootstrapServers, topic, eventsPerSecond: 1_000);
        await Task.Delay(TimeSpan.FromSeconds(5));
        var from = health.Now;
        stack.Kafka.SetBrokersUp(false);
        await Task.Delay(downtime);
        stack.Kafka.SetBrokersUp(true);
        var back = health.Now;
        await Task.Delay(TimeSpan.FromSeconds(10));
        var delivered = await flow.StopAsync();
        var (seconds, ids) = await Convergence.WaitForEventsAsync(new LocalFolderLakeStorage(folder), delivered.Count, TimeSpan.FromSeconds(180));
        await events.WaitHealthyAsync(TimeSpan.FromSeconds(60));
        return await Row("Kafka cluster unreachable: Pipeline C", $"mock broker set down (`rd_kafka_mock_broker_set_down`) for {downtime.TotalSeconds:F0} s, then up; events produced all along ({flow.Failed} not delivered)",
            health, events, from, back, $"all in the lake {seconds:F1} s after the data stopped",
            () => Task.FromResult(Outputs.Compare(ids, [.. delivered.Order(StringComparer.Ordinal)], "events")));
    }

    public async Task<List<FaultResult>> CqlRestartAsync()
    {
        var mySql = await stack.NewSourceAsync("cqlrestart");
        var dataFile = Path.Combine(stack.Folder("cql-restart"), "cql.data");
        var cql = await stack.StartCqlAsync(dataFile);
        var port = cql.Port;
        await FaultStack.MigrateAsync(mySql, cql);
        try
        {
            await using var profile = new ChildService("cql-profile", "Pipelines.Profile", FaultStack.ProfileEnvironment(mySql, cql), stack.Folder("logs"));
            var apiEnvironment = new Dictionary<string, string?>(BenchToken.ApiEnvironment)
            {
                ["Lake__Root"] = stack.Folder("cql-restart-api-lake"),
                ["ConnectionStrings__cassandra"] = cql.ConnectionString(CustomerData.Contracts.PlatformNames.Keyspace),
            };
            await using var api = new ChildService("cql-api", "Api", apiEnvironment, stack.Folder("logs"));
            await StartAllAsync(profile, api);
            await using var health = new HealthWatch(profile, api);
            await using var flow = await TransactionFlow.StartAsync(mySql, FaultStack.Customers, batch: 200, pause: TimeSpan.FromMilliseconds(200));
            await Task.Delay(TimeSpan.FromSeconds(5));
            var from = health.Now;
            var outage = TimeSpan.FromSeconds(Math.Min(10, downtime.TotalSeconds));
            await cql.DisposeAsync();
            await Task.Delay(outage);
            cql = await stack.StartCqlAsync(dataFile, port);
            var back = health.Now;
            await Task.Delay(TimeSpan.FromSeconds(10));
            var last = await flow.StopAsync();
            var caughtUp = await Convergence.WaitForOffsetAsync(mySql, "profile_offsets", "last_txn_id", last, TimeSpan.FromSeconds(120));
            await Task.WhenAll(profile.WaitHealthyAsync(TimeSpan.FromSeconds(60)), api.WaitHealthyAsync(TimeSpan.FromSeconds(60)));
            var answer = await CustomerAnswerAsync(api.Port);
            var fault = $"CQL dev server stopped, down {outage.TotalSeconds:F0} s, started again on the same port and data file; data flowing";
            var connection = cql.ConnectionString();
            return
            [
                await Row("CQL server restarted: Pipeline A", fault, health, profile, from, back, $"caught up {caughtUp:F1} s after the data stopped",
                    async () => { await profile.Kill9Async(); return Outputs.Compare(await Outputs.ProfileRowsAsync(connection), await Convergence.UndisturbedProfilesAsync(stack, mySql, "cqlrestart"), "profiles"); }),
                await Row("CQL server restarted: Api", fault, health, api, from, back, "no restart of the Api",
                    () => Task.FromResult(answer == HttpStatusCode.OK ? "equal: `GET /customer/1` answers 200 after" : $"**differs**: `GET /customer/1` answered {(int)answer}")),
            ];
        }
        finally
        {
            await cql.DisposeAsync();
        }
    }

    private static async Task<HttpStatusCode> CustomerAnswerAsync(int port)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", BenchToken.Value);
        using var response = await http.GetAsync($"http://127.0.0.1:{port}/customer/1");
        return response.StatusCode;
    }

    private static async Task StartAllAsync(params ChildService[] services)
    {
        foreach (var s in services) s.Start();
        await Task.WhenAll(services.Select(s => s.WaitHealthyAsync(TimeSpan.FromSeconds(90))));
    }

    private static async Task<FaultResult> Row(string scenario, string fault, HealthWatch health, ChildService service, double from, double back, string caughtUp, Func<Task<string>> check)
    {
        var shown = health.NotHealthySince(service, from);
        var healthy = health.HealthyAgainAfter(service, back);
        var output = await check();
        var recovered = healthy is { } h ? $"Healthy {h:F1} s after the fault ended; {caughtUp}" : "**not Healthy at the end**";
        return new FaultResult(scenario, fault, shown, recovered, output,
            output.StartsWith("equal", StringComparison.Ordinal) && healthy is not null && shown != "Healthy throughout" && service.Starts == 1);
    }
}
