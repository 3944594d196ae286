using System.Diagnostics;
using Confluent.Kafka;
using CustomerData.Producer.Events;
using CustomerData.Producer.Live;
using CustomerData.Producer.Seeding;
using CustomerData.Tests.Shared;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;
using static CustomerData.Producer.Tests.TestSupport;

namespace CustomerData.Producer.Tests;

/// <summary>What the Producer sends to the dashboard: a few window traces, not one trace per send.</summary>
public sealed class TraceTests(MariaDbFixture mariaDb, KafkaFixture kafka)
{
    [Fact]
    public async Task The_live_sends_and_appends_of_a_window_share_one_root_and_each_message_names_its_send()
    {
        var cs = await mariaDb.Server.CreateDatabaseAsync("trace", Token);
        var seed = await RunCliAsync("seed", "--mysql", cs, "--customers", "20", "--products", "10", "--transactions", "100");
        Assert.True(seed.ExitCode == 0, seed.Error);
        var topic = "trace-" + Guid.NewGuid().ToString("N")[..8];
        var window = TimeSpan.FromSeconds(1);
        var options = new ProducerOptions { Topic = topic, TxnRate = 50, EventRate = 200, Customers = 20, Products = 10, TraceWindow = window };
        await using var capture = await TraceCapture.StartAsync();
        await using var dataSource = new MySqlDataSource(cs);
        var config = new ProducerConfig { BootstrapServers = kafka.Cluster.BootstrapServers };
        EventSender.Configure(config);
        using var producer = new ProducerBuilder<string, byte[]>(config).Build();
        var runner = new LiveRunner(options, cs, dataSource, producer, kafka.Cluster.BootstrapServers, NullLogger.Instance);

        var clock = Stopwatch.StartNew();
        await runner.RunAsync(seedIfEmpty: false, duration: TimeSpan.FromSeconds(4), Token);
        var seconds = clock.Elapsed.TotalSeconds;

        var spans = capture.Snapshot();
        var sends = spans.Where(s => s.OperationName == "send " + topic).ToList();
        // At five ticks a second, about twenty sends: one trace each before the windows.
        Assert.True(sends.Count >= 10, $"{sends.Count} sends in {seconds:F1} s");
        var roots = sends.Select(s => s.TraceId).Distinct().ToList();
        Assert.True(roots.Count <= Math.Ceiling(seconds / window.TotalSeconds) + 1, $"{roots.Count} root traces for {sends.Count} sends in {seconds:F1} s");
        var windows = spans.Where(s => s.OperationName == "live events" && roots.Contains(s.TraceId)).ToList();
        Assert.All(windows, w => Assert.Equal(default, w.ParentSpanId));
        Assert.All(sends, s => Assert.Contains(windows, w => w.SpanId == s.ParentSpanId));
        Assert.Equal(sends.Count, windows.Sum(w => (int)w.GetTagItem("producer.window.operations")!));

        // Every message carries the traceparent of its own send (what Pipeline C links its batch to).
        var messages = Consume(kafka.Cluster.BootstrapServers, topic, (int)runner.Events!.Produced);
        Assert.Equal(runner.Events.Produced, messages.Count);
        var sendContexts = sends.Select(s => (s.TraceId, s.SpanId)).ToHashSet();
        Assert.All(messages, m =>
        {
            var parent = KafkaTraceContext.Extract(m.Message.Headers);
            Assert.Contains((parent.TraceId, parent.SpanId), sendContexts);
        });

        // The appends likewise, each with its MySQL insert as a child.
        var database = new MySqlConnectionStringBuilder(cs).Database;
        var appends = spans.Where(s => s.OperationName == "append transactions"
            && spans.Any(c => c.ParentSpanId == s.SpanId && Equals(c.GetTagItem("db.name"), database) && (c.GetTagItem("db.statement") as string ?? "").Contains("INSERT INTO transactions", StringComparison.Ordinal))).ToList();
        Assert.True(appends.Count >= 5, $"{appends.Count} appends");
        Assert.All(appends, a => Assert.Contains(spans, w => w.OperationName == "live transactions" && w.SpanId == a.ParentSpanId && w.ParentSpanId == default));
        Assert.True(appends.Select(a => a.TraceId).Distinct().Count() <= Math.Ceiling(seconds / window.TotalSeconds) + 1);
    }

    [Fact]
    public async Task A_seed_by_multi_row_inserts_puts_no_name_or_email_into_the_MySQL_spans()
    {
        var cs = await mariaDb.Server.CreateDatabaseAsync("trace_seed", Token);
        await Contracts.SourceSchema.ApplyAsync(cs, Token);
        var plan = new SeedPlan(9, 30, 10, 200, new DateOnly(2024, 1, 1), new DateOnly(2024, 2, 1));
        await using var capture = await TraceCapture.StartAsync();

        await new Seeder(cs, NullLogger.Instance).SeedAsync(plan, SeedLoadMethod.Insert, 100, liveMode: false, Token);

        var database = new MySqlConnectionStringBuilder(cs).Database;
        var seed = Assert.Single(capture.Snapshot(), s => s.OperationName == "seed" && capture.Descendants(s).Any(d => Equals(d.GetTagItem("db.name"), database)));
        var trace = capture.Trace(seed.TraceId);
        Assert.Contains(trace, s => s.Source.Name == "MySqlConnector" && (s.GetTagItem("db.statement") as string ?? "").StartsWith("INSERT IGNORE INTO customers", StringComparison.Ordinal));
        var personal = new List<string>();
        await using (var connection = await new MySqlDataSource(cs).OpenConnectionAsync(Token))
        await using (var command = new MySqlCommand("SELECT name FROM customers UNION ALL SELECT email FROM customers", connection))
        await using (var reader = await command.ExecuteReaderAsync(Token))
        {
            while (await reader.ReadAsync(Token)) personal.Add(reader.GetString(0));
        }
        Assert.Equal(60, personal.Count);
        var telemetry = TraceCapture.NamesAndTagValues(trace);
        Assert.All(personal, value => Assert.DoesNotContain(telemetry, t => t.Contains(value, StringComparison.Ordinal)));
    }
}
