using System.Net;
using CustomerData.Contracts;
using CustomerData.Tests.Shared;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static CustomerData.Producer.Tests.TestSupport;

namespace CustomerData.Producer.Tests;

/// <summary>Issue 17: the live host's <c>/admin/live/pause</c> and <c>/resume</c> over real MariaDB and the Kafka mock cluster.</summary>
public sealed class LiveAdminTests(MariaDbFixture mariaDb, KafkaFixture kafka)
{
    [Fact]
    public async Task Pause_stops_both_streams_until_resume_and_a_second_pause_changes_nothing()
    {
        var cs = await mariaDb.Server.CreateDatabaseAsync("liveadmin", Token);
        await SourceSchema.ApplyAsync(cs, Token); // the Migrations project's job under the AppHost
        var topic = "live-admin-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new Dictionary<string, string?>(OpsTestTokens.Settings)
        {
            ["ConnectionStrings:" + PlatformNames.Connections.MySql] = cs,
            ["ConnectionStrings:" + PlatformNames.Connections.Kafka] = kafka.Cluster.BootstrapServers,
            ["Producer:Topic"] = topic,
            ["Producer:Customers"] = "20",
            ["Producer:Products"] = "10",
            ["Producer:Transactions"] = "500",
            ["Producer:TxnRate"] = "100",
            ["Producer:EventRate"] = "200",
        };
        await using var app = LiveHost.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            b.WebHost.UseUrls("http://127.0.0.1:0");
        });
        await app.StartAsync(Token);
        try
        {
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            await WaitUntilAsync(async () => await CountsAsync(cs, topic) is { Transactions: > 0, Events: > 0 });

            using var anonymous = new HttpClient { BaseAddress = address };
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/admin/live/pause", null, Token)).StatusCode);
            using var client = OpsTestTokens.Operator(address);
            var paused = await client.PostAsync("/admin/live/pause", null, Token);
            Assert.Equal((HttpStatusCode.OK, "Live stream paused"), (paused.StatusCode, (await OpsTestTokens.EnvelopeAsync(paused)).Message));
            var again = await client.PostAsync("/admin/live/pause", null, Token);
            Assert.Equal("Live stream was already paused", (await OpsTestTokens.EnvelopeAsync(again)).Message);
            Assert.Equal("paused", (await OpsTestTokens.EnvelopeAsync(await client.GetAsync("/admin/live", Token))).Data.GetProperty("state").GetString());

            // A tick under way and deliveries in flight settle first: the counts stop moving.
            var atPause = await CountsAsync(cs, topic);
            await WaitUntilAsync(async () =>
            {
                await Task.Delay(500, Token);
                var now = await CountsAsync(cs, topic);
                var still = now == atPause;
                atPause = now;
                return still;
            });
            await Task.Delay(TimeSpan.FromSeconds(1.5), Token);
            Assert.Equal(atPause, await CountsAsync(cs, topic));

            var resumed = await client.PostAsync("/admin/live/resume", null, Token);
            Assert.Equal("Live stream resumed", (await OpsTestTokens.EnvelopeAsync(resumed)).Message);
            await WaitUntilAsync(async () => await CountsAsync(cs, topic) is var now && now.Transactions > atPause.Transactions && now.Events > atPause.Events);
        }
        finally
        {
            await app.StopAsync(Token);
        }
    }

    private async Task<(long Transactions, long Events)> CountsAsync(string cs, string topic)
    {
        long transactions;
        try
        {
            transactions = await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions WHERE txn_id > 500");
        }
        catch (MySqlConnector.MySqlException)
        {
            transactions = 0; // the schema is not there yet
        }
        return (transactions, MessagesInTopic(kafka.Cluster.BootstrapServers, topic));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Condition not met within 60 s.");
            await Task.Delay(200, Token);
        }
    }
}
