using System.Net.Http.Json;
using CustomerData.Contracts;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static CustomerData.Producer.Tests.TestSupport;

namespace CustomerData.Producer.Tests;

public sealed class LiveTests(MariaDbFixture mariaDb, KafkaFixture kafka)
{
    [Fact]
    public async Task Run_appends_transactions_stamped_now_and_sends_events()
    {
        var cs = await mariaDb.Server.CreateDatabaseAsync("run", Token);
        var seed = await RunCliAsync("seed", "--mysql", cs, "--customers", "100", "--products", "30", "--transactions", "10000");
        Assert.True(seed.ExitCode == 0, seed.Error);
        var topic = "run-" + Guid.NewGuid().ToString("N")[..8];

        // The rates are wall-time based. A 6 s window asks for a third of the nominal counts (as 3 s did) but
        // leaves a slow or paused machine about 4 s of stalls instead of 2; the ceiling is what the rate allows in
        // the time the run really took (the rate budget never hands out more).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = await RunCliAsync("run", "--mysql", cs, "--kafka", kafka.Cluster.BootstrapServers, "--topic", topic,
            "--txn-rate", "100", "--event-rate", "200", "--duration", "6s");
        var runSeconds = clock.Elapsed.TotalSeconds;

        Assert.True(run.ExitCode == 0, run.Error);
        // The run honoured --duration: not shorter, and not much longer than it plus a slow start (the ceiling below
        // scales with the measured time, so a run that overstayed at the right rate would pass it).
        Assert.InRange(runSeconds, 6.0, 40.0);
        var appended = await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions WHERE txn_id > 10000");
        Assert.True(appended >= 200 && appended <= 100 * runSeconds + 1,
            $"{appended} transactions appended in a run of {runSeconds:F1} s at 100/s: {run.Output}");
        Assert.Equal(appended, await ScalarAsync(cs,
            "SELECT COUNT(*) FROM transactions t JOIN products p ON p.product_id = t.product_id JOIN customers c ON c.customer_id = t.customer_id " +
            "WHERE t.txn_id > 10000 AND t.amount = t.qty * p.price AND t.txn_timestamp > UTC_TIMESTAMP() - INTERVAL 2 MINUTE"));
        var events = Consume(kafka.Cluster.BootstrapServers, topic, 400);
        Assert.True(events.Count >= 400, $"{events.Count} events");
    }

    [Fact]
    public async Task Live_host_seeds_an_empty_database_once_streams_and_reports_healthy()
    {
        var cs = await mariaDb.Server.CreateDatabaseAsync("live", Token);
        // The schema is the Migrations project's, applied before the Producer starts.
        await SourceSchema.ApplyAsync(cs, Token);
        var topic = "live-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:" + PlatformNames.Connections.MySql] = cs,
            ["ConnectionStrings:" + PlatformNames.Connections.Kafka] = kafka.Cluster.BootstrapServers,
            ["Producer:Topic"] = topic,
            ["Producer:Customers"] = "50",
            ["Producer:Products"] = "20",
            ["Producer:Transactions"] = "20000",
            ["Producer:TxnRate"] = "50",
            ["Producer:EventRate"] = "100",
        };

        for (var start = 0; start < 2; start++)
        {
            await using var app = LiveHost.Build([], b =>
            {
                b.Configuration.AddInMemoryCollection(settings);
                b.WebHost.UseUrls("http://127.0.0.1:0");
            });
            await app.StartAsync(Token);
            try
            {
                var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
                using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(10) };
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                // Each start must add its share of both streams; waiting on transactions alone let a fast
                // seed stop the host before 100 events had been sent.
                while ((await LiveTransactionsAsync(cs) < 20 * (start + 1) || MessagesInTopic(kafka.Cluster.BootstrapServers, topic) < 50 * (start + 1))
                       && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(250, Token);
                }
                Assert.Equal("Healthy", await http.GetStringAsync("/health", Token));
                Assert.Equal("Healthy", await http.GetStringAsync("/alive", Token));
            }
            finally
            {
                await app.StopAsync(Token);
            }
        }

        // Seeded once: the second start found the complete seed and only streamed on.
        Assert.Equal(20_000, await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions WHERE txn_id <= 20000"));
        Assert.Equal(50, await ScalarAsync(cs, "SELECT COUNT(*) FROM customers"));
        Assert.True(await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions WHERE txn_id > 20000") >= 40);
        Assert.True(Consume(kafka.Cluster.BootstrapServers, topic, 100).Count >= 100);
    }

    /// <summary>Transactions appended after the seed; 0 while the host has not created the schema yet.</summary>
    private static async Task<long> LiveTransactionsAsync(string cs)
    {
        try
        {
            return await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions WHERE txn_id > 20000");
        }
        catch (MySqlConnector.MySqlException)
        {
            return 0;
        }
    }
}
