using System.Diagnostics.Metrics;
using System.Text.Json;
using CustomerData.Contracts.Quality;
using CustomerData.Pipelines.Common;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>The meter is process-wide: the quality metric test runs alone.</summary>
[CollectionDefinition(nameof(QualityReportTests), DisableParallelization = true)]
public sealed class QualityReportCollection;

/// <summary>Pipeline C's data-quality report (issue 17): committed batches' malformed messages by reason, on <c>/quality</c> and the metrics.</summary>
[Collection(nameof(QualityReportTests))]
public sealed class QualityReportTests(KafkaFixture kafka, S3rverFixture s3)
{
    [Fact]
    public async Task Committed_batches_report_their_malformed_messages_by_reason_and_the_metric_counts_the_same()
    {
        var ct = TestContext.Current.CancellationToken;
        using var testLake = new TestLake("local", s3);
        var topic = $"events-quality-{Guid.NewGuid():N}";
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        var sent = await TestEvents.ProduceAsync(producer, topic, 140, malformedEvery: 2, DateTime.UtcNow.AddMinutes(-5), cancellationToken: ct);
        var expected = sent.Where(s => s.ExpectedReason is not null).GroupBy(s => s.ExpectedReason!)
            .ToDictionary(g => g.Key, g => (long)g.Count());
        var measured = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EventsTelemetry.Name && instrument.Name == "quality.rejects") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags) if (tag.Key == "reason") lock (measured) measured[(string)tag.Value!] = measured.GetValueOrDefault((string)tag.Value!) + value;
        });
        listener.Start();

        PipelineQualityReport report;
        await using (var host = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, testLake.Options.Root, topic, "g-" + topic, testLake.Settings()))
        {
            await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, "g-" + topic, partitions, TimeSpan.FromSeconds(60));
            var quality = host.Services.GetRequiredService<QualityHistory>();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            // Recorded just after each commit: wait until the last batch's record is in.
            while (quality.Report().SinceStart.RowsChecked < sent.Count && DateTime.UtcNow < deadline) await Task.Delay(50, ct);
            report = quality.Report();
        }

        Assert.Equal("events", report.Pipeline);
        Assert.Equal("messages", report.LagUnit);
        Assert.Equal(sent.Count, report.SinceStart.RowsChecked);
        Assert.All(report.Cycles, c => Assert.Equal("batch", c.Kind));
        Assert.Equal(expected.OrderBy(kv => kv.Key), report.SinceStart.Rejects.Select(r => KeyValuePair.Create(r.Reason, r.Count)));
        lock (measured) Assert.Equal(expected.OrderBy(kv => kv.Key), measured.OrderBy(kv => kv.Key));
        // A sample names the message's place and the decoder's detail, never its payload.
        var sample = report.Cycles.SelectMany(c => c.Rejects).First(r => r.Reason == Contracts.MalformedReasons.MissingEventId).Samples[0];
        Assert.Matches(@"^partition=\d+ offset=\d+ event_id is empty$", sample);
        Assert.Equal(0, report.Lag);
        Assert.NotNull(report.FreshnessSeconds);
        var json = JsonSerializer.Serialize(report, QualityJsonContext.Default.PipelineQualityReport);
        foreach (var s in sent.Where(s => s.Kind is not null)) Assert.DoesNotContain(s.EventId, json, StringComparison.Ordinal);
    }
}
