using System.Diagnostics;
using System.Diagnostics.Metrics;
using CustomerData.Tests.Shared;

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>The span and metrics of a cycle. In the non-parallel collection: the meter is process-wide.</summary>
[Collection(nameof(ProfileFaultTests))]
public sealed class ProfileTelemetryTests(MariaDbFixture maria, CqlDevServerFixture cql)
{
    [Fact]
    public async Task A_cycle_emits_its_span_and_the_updated_rejected_latency_and_lag_metrics()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 12, products: 4, transactions: 60, seed: 41);
        await bed.ExecuteAsync("INSERT INTO transactions (customer_id, product_id, qty, amount, txn_timestamp) VALUES (999, 1, 1, 1.00, '2025-01-01 00:00:00')");
        var runner = await bed.CreateRunnerAsync();

        var measurements = new List<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var meterListener = new MeterListener();
        meterListener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ProfileTelemetry.Name) listener.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags) copy[tag.Key] = tag.Value;
            lock (measurements) measurements.Add((instrument.Name, value, copy));
        }
        meterListener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        meterListener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        meterListener.Start();
        var spans = new List<Activity>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ProfileTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (spans) spans.Add(activity); },
        };
        ActivitySource.AddActivityListener(activityListener);

        var result = await runner.RunCycleAsync(CycleMode.Incremental, TestContext.Current.CancellationToken);
        meterListener.RecordObservableInstruments();

        Assert.True(result.Succeeded, result.Error?.ToString());
        var span = Assert.Single(spans, s => s.OperationName == "profile.cycle" && (string?)s.GetTagItem("profile.outcome") == "success");
        Assert.Equal(61L, span.GetTagItem("profile.offset.after"));
        Assert.Equal(result.ProfilesWritten, (int)span.GetTagItem("profile.profiles.written")!);
        lock (measurements)
        {
            Assert.Equal(result.ProfilesWritten, measurements.Where(m => m.Name == "profile.customers.updated").Sum(m => m.Value));
            Assert.Equal(result.ProfilesWritten, measurements.Count(m => m.Name == "profile.write.duration"));
            Assert.Contains(measurements, m => m.Name == "profile.rejects" && (string?)m.Tags["reason"] == QualityReasons.CustomerMissing && m.Value == 1);
            Assert.Contains(measurements, m => m.Name == "profile.lag.transactions" && m.Value == 61);
            Assert.Contains(measurements, m => m.Name == "profile.cycles" && (string?)m.Tags["outcome"] == "success");
        }
    }

    [Fact]
    public async Task A_cycle_trace_holds_the_MySQL_reads_and_the_Cassandra_writes_as_its_children_without_personal_data()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 12, products: 4, transactions: 60, seed: 43);
        var runner = await bed.CreateRunnerAsync();
        await using var capture = await TraceCapture.StartAsync();

        var result = await runner.RunCycleAsync(CycleMode.Incremental, TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded, result.Error?.ToString());
        var cycle = Assert.Single(capture.Snapshot(), s => s.OperationName == "profile.cycle" && Equals(s.GetTagItem("profile.offset.after"), 60L));
        Assert.Equal(default, cycle.ParentSpanId);
        var children = capture.Descendants(cycle);
        var mySql = children.Where(s => s.Source.Name == "MySqlConnector").ToList();
        var cassandra = children.Where(s => s.Source.Name == "CustomerData.Cql").ToList();
        Assert.Contains(mySql, s => s.Kind == ActivityKind.Client && ((s.GetTagItem("db.query.text") ?? s.GetTagItem("db.statement")) as string ?? "").Contains("transactions", StringComparison.Ordinal));
        Assert.Contains(cassandra, s => s.Kind == ActivityKind.Client && (s.GetTagItem("db.statement") as string ?? "").Contains("customer_profile", StringComparison.Ordinal));
        // One span per CQL statement: the writes are one prepared INSERT per changed profile, nothing finer.
        Assert.Equal(result.ProfilesWritten, cassandra.Count(s => s.DisplayName == "INSERT" && (s.GetTagItem("db.statement") as string ?? "").Contains("\"customer_profile\" (", StringComparison.Ordinal)));

        // The customers' names and emails are read and written, but never appear in a span name or tag.
        var personal = new List<string>();
        await using (var connection = await bed.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken))
        await using (var command = new MySqlConnector.MySqlCommand("SELECT name FROM customers UNION ALL SELECT email FROM customers", connection))
        await using (var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken)) personal.Add(reader.GetString(0));
        }
        var telemetry = TraceCapture.NamesAndTagValues(capture.Trace(cycle.TraceId));
        Assert.NotEmpty(personal);
        Assert.All(personal, value => Assert.DoesNotContain(telemetry, t => t.Contains(value, StringComparison.Ordinal)));
    }
}
