using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using CustomerData.Lake;
using CustomerData.Tests.Shared;
using Microsoft.Extensions.Hosting;

namespace CustomerData.Pipelines.Events.Tests;

public sealed class TraceTests(KafkaFixture kafka)
{
    [Fact]
    public async Task TheBatchSpanLinksToTheProducersSpans()
    {
        var ct = TestContext.Current.CancellationToken;
        using var lakeFolder = new TempLake();
        var topic = $"events-trace-{Guid.NewGuid():N}";
        var partitions = kafka.Cluster.EnsureTopic(topic);
        var batches = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == EventsTelemetry.Name || s.Name == "test-producer",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { if (a.OperationName == "events.batch" && a.Tags.Any(t => t.Key == "messaging.destination.name" && t.Value == topic)) batches.Enqueue(a); },
        };
        ActivitySource.AddActivityListener(listener);
        using var producerSource = new ActivitySource("test-producer");
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        var producerTraces = new HashSet<ActivityTraceId>();
        for (var i = 0; i < 10; i++)
        {
            using var span = producerSource.StartActivity("produce", ActivityKind.Producer)!;
            var message = TestEvents.Message($"trace-{i}", 1 + i, DateTime.UtcNow);
            message.Headers = [];
            KafkaTraceContext.Inject(span, message.Headers);
            await producer.ProduceAsync(topic, message, ct);
            producerTraces.Add(span.TraceId);
        }

        await using (await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lakeFolder.Root, topic, "g-" + topic))
        {
            await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, "g-" + topic, partitions, TimeSpan.FromSeconds(60));
        }

        Assert.NotEmpty(batches);
        var linked = batches.SelectMany(b => b.Links).Select(l => l.Context.TraceId).ToHashSet();
        Assert.Equal(producerTraces.Select(t => t.ToHexString()).Order(StringComparer.Ordinal), linked.Select(t => t.ToHexString()).Order(StringComparer.Ordinal));
        Assert.All(batches, b => Assert.Equal(ActivityKind.Consumer, b.Kind));
    }

    [Fact]
    public async Task A_producer_span_is_linked_from_the_batch_whose_trace_holds_the_lake_writes_of_its_files()
    {
        var ct = TestContext.Current.CancellationToken;
        using var lakeFolder = new TempLake();
        var topic = $"events-trace-lake-{Guid.NewGuid():N}";
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "test-producer",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var producerSource = new ActivitySource("test-producer");
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        var sends = new List<ActivityContext>();
        for (var i = 0; i < 6; i++)
        {
            using var span = producerSource.StartActivity("send", ActivityKind.Producer)!;
            // Two days, so the batch writes two Parquet files.
            var message = TestEvents.Message($"trace-lake-{i}", 1 + i, DateTime.UtcNow.Date.AddDays(-(i % 2)).AddHours(12));
            message.Headers = [];
            KafkaTraceContext.Inject(span, message.Headers);
            await producer.ProduceAsync(topic, message, ct);
            sends.Add(span.Context);
        }

        TraceCapture? capture = null;
        await using (await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lakeFolder.Root, topic, "g-" + topic,
            configure: b => capture = TraceCapture.AddTo(b)))
        {
            await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, "g-" + topic, partitions, TimeSpan.FromSeconds(60));
        }

        var spans = capture!.Snapshot();
        var batches = spans.Where(s => s.OperationName == "events.batch" && Equals(s.GetTagItem("messaging.destination.name"), topic)).ToList();
        Assert.NotEmpty(batches);
        foreach (var send in sends)
        {
            // The producer's span → (traceparent header) → the batch that took its message, by a link.
            var batch = Assert.Single(batches, b => b.Links.Any(l => l.Context.TraceId == send.TraceId && l.Context.SpanId == send.SpanId));
            Assert.Equal(default, batch.ParentSpanId);
            Assert.Equal(ActivityKind.Consumer, batch.Kind);
        }
        foreach (var batch in batches)
        {
            // The batch's trace: its files and its lake position, each a lake span under the batch span.
            var writes = capture.Descendants(batch).Where(s => s.Source.Name == LakeTelemetry.Name).ToList();
            var keys = writes.Where(w => w.OperationName == "lake publish").Select(w => (string)w.GetTagItem("lake.key")!).ToList();
            Assert.Contains(keys, k => k.StartsWith("events/", StringComparison.Ordinal) && k.EndsWith(".parquet", StringComparison.Ordinal));
            Assert.Contains(keys, k => !k.EndsWith(".parquet", StringComparison.Ordinal));
            Assert.All(writes, w => Assert.Equal(batch.TraceId, w.TraceId));
            Assert.All(writes, w => Assert.Equal(ActivityKind.Client, w.Kind));
        }
        // Both days' files were written under batch spans.
        var days = batches.SelectMany(b => capture.Descendants(b))
            .Select(s => s.GetTagItem("lake.key") as string)
            .Where(k => k is not null && k.EndsWith(".parquet", StringComparison.Ordinal))
            .Select(k => k!.Split('/')[1]).Distinct().Count();
        Assert.Equal(2, days);
        // Lake calls outside any operation (the resume plan's reads at assignment) are not exported as traces of their own.
        Assert.DoesNotContain(spans, s => s.ParentSpanId == default && s.Kind == ActivityKind.Client);
    }
}
