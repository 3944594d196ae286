using System.Diagnostics.Metrics;
using CustomerData.Contracts;
using CustomerData.Lake;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerData.Pipelines.Events.Tests;

public sealed class FilesPerDayGaugeTests
{
    [Fact]
    public async Task The_files_per_day_gauge_drops_a_day_the_compactor_no_longer_sees()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempLake();
        var lake = new LocalFolderLakeStorage(folder.Root);
        // Days of their own (other tests' days are fixed dates long past the lookback).
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var (kept, dropped) = (today.AddDays(-33), today.AddDays(-34));
        foreach (var day in new[] { kept, dropped })
        {
            var e = new LakeEvent($"e-{day}", 1, "LIKE", null, day.ToDateTime(new TimeOnly(12, 0), DateTimeKind.Utc), DateTime.UtcNow);
            await lake.PublishAsync(EventFileNames.EventsBatchKey(day, "gauge-topic", 0, 0), await EventParquet.WriteEventsAsync([e], 10, cancellationToken: ct), ct);
        }
        // Compaction of these closed days would need committed offsets: none are given, so the pass only observes.
        var compactor = new EventsCompactor(lake, new EventsOptions(), TimeProvider.System, NullLogger<EventsCompactor>.Instance);

        await compactor.RunPassAsync(_ => new Dictionary<(string, int), long>(), ct);
        var first = Observe();
        Assert.Equal(1, first.GetValueOrDefault(LakeLayout.Day(kept)));
        Assert.Equal(1, first.GetValueOrDefault(LakeLayout.Day(dropped)));

        await lake.DeleteAsync(EventFileNames.EventsBatchKey(dropped, "gauge-topic", 0, 0), ct);
        await compactor.RunPassAsync(_ => new Dictionary<(string, int), long>(), ct);
        var second = Observe();
        Assert.Equal(1, second.GetValueOrDefault(LakeLayout.Day(kept)));
        Assert.False(second.ContainsKey(LakeLayout.Day(dropped)), "the gauge still reports a day the lake no longer has");
    }

    private static Dictionary<string, int> Observe()
    {
        var values = new Dictionary<string, int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EventsTelemetry.Name && instrument.Name == "events.files_per_day") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags) if (tag.Key == "event_date") values[(string)tag.Value!] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return values;
    }
}
