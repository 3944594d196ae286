using System.Diagnostics;
using System.Diagnostics.Metrics;

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
}
