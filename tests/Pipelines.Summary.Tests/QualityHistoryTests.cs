using System.Diagnostics.Metrics;
using CustomerData.Contracts.Quality;
using CustomerData.Pipelines.Common;
using Microsoft.Extensions.Time.Testing;

namespace CustomerData.Pipelines.Summary.Tests;

/// <summary>The shared data-quality history every pipeline's <c>/quality</c> and <c>quality.*</c> metrics come from.</summary>
public sealed class QualityHistoryTests
{
    private static readonly DateTime Start = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);

    private static QualityCycle Cycle(int n, long rejects, DateTime? newest = null, int samples = 1) =>
        new("incremental", Start.AddMinutes(n), Start.AddMinutes(n).AddSeconds(1), true, 10,
            rejects == 0 ? [] : [new QualityReasonCount("unknown_customer", rejects, Enumerable.Range(0, samples).Select(i => $"txn_id={n * 100 + i}").ToList())],
            [], newest, n);

    [Fact]
    public void The_ring_keeps_the_newest_cycles_first_while_the_totals_and_the_counters_keep_everything()
    {
        using var meter = new Meter("CustomerData.Tests.QualityHistory." + Guid.NewGuid().ToString("N"));
        var counted = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter == meter && instrument.Name == "quality.rejects") l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => counted += value);
        listener.Start();
        var history = new QualityHistory("summary", meter, "transactions", new FakeTimeProvider(Start.AddHours(1)), capacity: 3);

        for (var n = 1; n <= 5; n++) history.Record(Cycle(n, rejects: n));
        var report = history.Report();

        Assert.Equal([5L, 4L, 3L], report.Cycles.Select(c => c.Lag!.Value));
        Assert.Equal((5L, 50L), (report.SinceStart.Cycles, report.SinceStart.RowsChecked));
        Assert.Equal(15, Assert.Single(report.SinceStart.Rejects).Count);
        Assert.Equal(15, counted);
        Assert.Equal(5, report.Lag);
    }

    [Fact]
    public void Samples_are_capped_in_number_and_length_and_empty_reasons_are_dropped()
    {
        using var meter = new Meter("CustomerData.Tests.QualityHistory." + Guid.NewGuid().ToString("N"));
        var history = new QualityHistory("profile", meter, "transactions", TimeProvider.System);

        history.Record(Cycle(1, rejects: 50, samples: 20) with
        {
            Warnings = [new QualityReasonCount("name_null", 0, ["customer_id=1"]), new QualityReasonCount("amount_null", 1, [new string('x', 500)])],
        });
        var cycle = Assert.Single(history.Report().Cycles);

        Assert.Equal(QualityHistory.MaxSamplesPerReason, Assert.Single(cycle.Rejects).Samples.Count);
        var warning = Assert.Single(cycle.Warnings);
        Assert.Equal("amount_null", warning.Reason);
        Assert.Equal(QualityHistory.MaxSampleLength + 1, Assert.Single(warning.Samples).Length); // cut, with an ellipsis
    }

    [Fact]
    public void Freshness_is_the_age_of_the_newest_record_ever_written_never_negative_and_unknown_before_any()
    {
        using var meter = new Meter("CustomerData.Tests.QualityHistory." + Guid.NewGuid().ToString("N"));
        var time = new FakeTimeProvider(Start);
        var history = new QualityHistory("events", meter, "messages", time);
        Assert.Null(history.Report().FreshnessSeconds);

        history.Record(Cycle(1, 0, newest: Start.AddSeconds(-90)));
        history.Record(Cycle(2, 0, newest: Start.AddSeconds(-300))); // an older record later does not make it staler
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(100, history.Report().FreshnessSeconds);

        history.Record(Cycle(3, 0, newest: Start.AddMinutes(5))); // a source clock ahead of ours
        Assert.Equal(0, history.Report().FreshnessSeconds);
    }
}
