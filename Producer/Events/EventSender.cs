using System.Diagnostics;
using Confluent.Kafka;
using CustomerData.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CustomerData.Producer.Events;

/// <summary>
/// Sends generated events to Kafka in batches: one producer span per batch whose W3C trace context goes into every
/// message's headers, per-kind counters, and delivery reports counted without blocking the send loop.
/// </summary>
public sealed class EventSender
{
    private static readonly int s_kindCount = Enum.GetValues<MalformedKind>().Length;

    private readonly IProducer<string, byte[]> _producer;
    private readonly string _topic;
    private readonly ILogger _logger;
    private readonly Action<DeliveryReport<string, byte[]>> _onDelivery;
    private readonly long[] _producedByKind = new long[s_kindCount + 1];
    private long _produced;
    private long _delivered;
    private long _failed;
    private string? _lastError;

    public EventSender(IProducer<string, byte[]> producer, string topic, ILogger logger)
    {
        _producer = producer;
        _topic = topic;
        _logger = logger;
        _onDelivery = report =>
        {
            if (report.Error.IsError)
            {
                Interlocked.Increment(ref _failed);
                ProducerTelemetry.EventFailed();
                _lastError = report.Error.Reason;
            }
            else
            {
                Interlocked.Increment(ref _delivered);
                ProducerTelemetry.EventDelivered();
            }
        };
    }

    public string Topic => _topic;

    /// <summary>The Confluent wire-format header (byte 0, schema id) put before every value; null: plain Avro.</summary>
    private byte[]? _frame;

    /// <summary>Sends the Confluent wire format from now on: every value is prefixed with byte 0 and <paramref name="schemaId"/> (big endian).</summary>
    public void UseConfluentFraming(int schemaId)
    {
        var frame = new byte[5];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), schemaId);
        _frame = frame;
    }

    /// <summary>Registers the contract under <c>TOPIC-value</c> and returns its schema id (the same id on every start).</summary>
    public static async Task<int> RegisterContractAsync(string registryUrl, string topic, CancellationToken cancellationToken)
    {
        using var client = new Confluent.SchemaRegistry.CachedSchemaRegistryClient(new Confluent.SchemaRegistry.SchemaRegistryConfig { Url = registryUrl });
        return await client.RegisterSchemaAsync(topic + "-value", new Confluent.SchemaRegistry.Schema(CustomerEventSchema.Json, Confluent.SchemaRegistry.SchemaType.Avro))
            .WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    private byte[] Framed(byte[] value)
    {
        if (_frame is not { } frame) return value;
        var framed = GC.AllocateUninitializedArray<byte>(frame.Length + value.Length);
        frame.CopyTo(framed, 0);
        value.CopyTo(framed, frame.Length);
        return framed;
    }
    public long Produced => Interlocked.Read(ref _produced);
    public long Delivered => Interlocked.Read(ref _delivered);
    public long Failed => Interlocked.Read(ref _failed);
    /// <summary>Handed to the client but neither acknowledged nor failed yet.</summary>
    public long InFlight => Produced - Delivered - Failed;
    public string? LastError => _lastError;

    /// <summary>Events handed over so far, by kind: "valid" or a <see cref="MalformedKind"/> name.</summary>
    public IReadOnlyDictionary<string, long> ProducedByKind =>
        Enumerable.Range(0, _producedByKind.Length).ToDictionary(
            k => k == 0 ? "valid" : ((MalformedKind)(k - 1)).ToString(), k => Interlocked.Read(ref _producedByKind[k]));

    /// <summary>The producer settings every Producer path uses: idempotent, batched (linger) and compressed.</summary>
    public static void Configure(ProducerConfig config)
    {
        config.ClientId ??= "customer-data-producer";
        config.EnableIdempotence = true;
        config.Acks = Acks.All;
        config.LingerMs ??= 20;
        config.CompressionType ??= CompressionType.Lz4;
        config.BatchNumMessages ??= 10_000;
        config.BatchSize ??= 1_000_000;
        config.QueueBufferingMaxMessages ??= 500_000;
        // Delivery reports only need the status: skip marshalling keys, values and headers back.
        config.DeliveryReportFields ??= "status";
        // librdkafka retries a broker that is away; the send loops apply back-pressure instead of dropping events.
        config.MessageTimeoutMs ??= 0;
    }

    /// <summary>Hands <paramref name="count"/> events to the client under one span; waits (bounded by the token) when its queue is full.</summary>
    public void SendBatch(EventGenerator generator, int count, CancellationToken cancellationToken)
    {
        using var activity = ProducerTelemetry.Source.StartActivity($"send {_topic}", ActivityKind.Producer)
            // No listener (a bare command line): still propagate a trace context so consumers can correlate.
            ?? new Activity($"send {_topic}").SetIdFormat(ActivityIdFormat.W3C).Start();
        activity.SetTag("messaging.system", "kafka");
        activity.SetTag("messaging.destination.name", _topic);
        activity.SetTag("messaging.batch.message_count", count);
        var injected = new Headers();
        KafkaTraceContext.Inject(activity, injected);
        // Every message of the batch gets the same header bytes (shared arrays, copied once per batch).
        var traceHeaders = injected.Select(h => (h.Key, Value: h.GetValueBytes())).ToArray();

        Span<int> perKind = stackalloc int[s_kindCount + 1];
        for (var i = 0; i < count; i++)
        {
            var message = generator.Next();
            var headers = new Headers();
            foreach (var (key, value) in traceHeaders) headers.Add(key, value);
            Produce(new Message<string, byte[]> { Key = message.Key!, Value = Framed(message.Value), Headers = headers }, cancellationToken);
            perKind[message.Kind is { } kind ? (int)kind + 1 : 0]++;
        }
        Interlocked.Add(ref _produced, count);
        for (var k = 0; k < perKind.Length; k++)
        {
            if (perKind[k] == 0) continue;
            Interlocked.Add(ref _producedByKind[k], perKind[k]);
            ProducerTelemetry.EventsProduced.Add(perKind[k],
                new KeyValuePair<string, object?>("kind", k == 0 ? "valid" : ((MalformedKind)(k - 1)).ToString()));
        }
    }

    private void Produce(Message<string, byte[]> message, CancellationToken cancellationToken)
    {
        for (var waited = 0; ; waited++)
        {
            try
            {
                _producer.Produce(_topic, message, _onDelivery);
                return;
            }
            catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                if (waited == 100) _logger.LogWarning("Kafka producer queue is full; waiting for the broker to acknowledge ({InFlight} events in flight)", InFlight);
                cancellationToken.ThrowIfCancellationRequested();
                Thread.Sleep(5);
            }
        }
    }

    /// <summary>Waits until every handed event is acknowledged or failed, at most <paramref name="timeout"/>; returns how many are still pending.</summary>
    public int Flush(TimeSpan timeout) => _producer.Flush(timeout);
}
