using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace CustomerData.Cql.Tests;

/// <summary>DI registration from the connection string, health check, spans and metrics.</summary>
public sealed class HostingTests(DevServerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddCassandraSession_registers_a_session_health_check_and_telemetry()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:cassandra"] = fixture.Server.ConnectionString("hosting_ks"),
            ["Cassandra:cassandra:Session:DefaultPageSize"] = "123",
        });
        builder.AddCassandraSession("cassandra");
        using var host = builder.Build();

        var session = host.Services.GetRequiredService<CqlSession>();
        Assert.Equal(123, session.Options.DefaultPageSize);
        Assert.Equal("hosting_ks", session.Keyspace);

        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);
        Assert.Equal(HealthStatus.Healthy, health.Entries["cassandra-cassandra"].Status);
        Assert.Contains(CqlDevServerVersion, health.Entries["cassandra-cassandra"].Description);

        var activities = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == CqlTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (activities) activities.Add(a); },
        };
        ActivitySource.AddActivityListener(listener);
        var durations = new List<double>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == CqlTelemetry.Name && instrument.Name == "db.client.operation.duration") l.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<double>((_, value, _, _) => { lock (durations) durations.Add(value); });
        meters.Start();

        // The keyspace does not exist yet: the session keeps working and switches once it does.
        await session.ExecuteAsync("CREATE KEYSPACE IF NOT EXISTS hosting_ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", cancellationToken: Ct);
        await session.ExecuteAsync("CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY)", cancellationToken: Ct);
        await session.ExecuteAsync("INSERT INTO t (id) VALUES (?)", [1], new CqlQueryOptions { Consistency = CqlConsistency.LocalOne }, Ct);

        Activity insert;
        // The listener is process-wide and other test classes run in parallel: pick this test's span.
        lock (activities) insert = activities.Single(a => a.OperationName == "INSERT" && (string?)a.GetTagItem("db.name") == "hosting_ks");
        Assert.Equal(ActivityKind.Client, insert.Kind);
        Assert.Equal("cassandra", insert.GetTagItem("db.system"));
        Assert.Equal("INSERT INTO t (id) VALUES (?)", insert.GetTagItem("db.statement"));
        Assert.Equal("LOCAL_ONE", insert.GetTagItem("db.cassandra.consistency_level"));
        Assert.Equal("hosting_ks", insert.GetTagItem("db.name"));
        lock (durations) Assert.True(durations.Count >= 3 && durations.All(d => d > 0));

        await Assert.ThrowsAsync<CqlSyntaxException>(() => session.ExecuteAsync("NOT CQL", cancellationToken: Ct));
        lock (activities) Assert.Equal(ActivityStatusCode.Error, activities.Single(a => (string?)a.GetTagItem("db.statement") == "NOT CQL").Status);
    }

    private const string CqlDevServerVersion = "3.11";

    [Fact]
    public void Missing_connection_string_names_the_setting()
    {
        var builder = Host.CreateApplicationBuilder();
        var ex = Assert.Throws<InvalidOperationException>(() => builder.AddCassandraSession("cassandra"));
        Assert.Contains("ConnectionStrings:cassandra", ex.Message);
    }
}
