using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
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
}
