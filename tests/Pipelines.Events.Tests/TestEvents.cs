using Avro.Generic;
using Avro.IO;
using CustomerData.Contracts;
using Confluent.Kafka;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>What a test sent: where it landed and what the pipeline must make of it.</summary>
public sealed record SentEvent(int Partition, long Offset, string EventId, MalformedKind? Kind, string? ExpectedReason);

/// <summary>Test events, encoded with Apache.Avro's own writer against the contract schema, produced with Confluent.Kafka.</summary>
public static class TestEvents
{
    public static byte[] Encode(string eventId, int customerId, string eventType, int? productId, string timestamp)
    {
        var record = new GenericRecord(CustomerEventSchema.Schema);
        record.Add("event_id", eventId);
        record.Add("customer_id", customerId);
        record.Add("event_type", eventType);
        record.Add("product_id", productId);
        record.Add("event_timestamp", timestamp);
        using var stream = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(CustomerEventSchema.Schema).Write(record, new BinaryEncoder(stream));
        return stream.ToArray();
    }

    public static string Iso(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The message for one event, or for one malformed kind (the same kinds the Producer's --malformed-rate sends).</summary>
    public static Message<byte[]?, byte[]> Message(string eventId, int customerId, DateTime eventTime, MalformedKind? kind = null, int productId = 7)
    {
        var key = System.Text.Encoding.UTF8.GetBytes(customerId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var type = CustomerEventSchema.EventTypes[customerId % 3];
        byte[] value = kind switch
        {
            MalformedKind.NotAvro => System.Text.Encoding.UTF8.GetBytes("{\"not\":\"avro\"," + eventId + "}"),
            MalformedKind.TruncatedAvro => Encode(eventId, customerId, type, productId, Iso(eventTime))[..^5],
            MalformedKind.MissingEventId => Encode("", customerId, type, productId, Iso(eventTime)),
            MalformedKind.MissingEventType => Encode(eventId, customerId, "", productId, Iso(eventTime)),
            MalformedKind.UnparseableTimestamp => Encode(eventId, customerId, type, productId, "yesterday-ish"),
            MalformedKind.NegativeProductId => Encode(eventId, customerId, type, -productId, Iso(eventTime)),
            _ => Encode(eventId, customerId, type, productId, Iso(eventTime)),
        };
        return new Message<byte[]?, byte[]> { Key = kind == MalformedKind.MissingKey ? null : key, Value = value };
    }

    public static string? ReasonOf(MalformedKind? kind) => kind switch
    {
        MalformedKind.NotAvro or MalformedKind.TruncatedAvro => MalformedReasons.Undecodable,
        MalformedKind.MissingEventId => MalformedReasons.MissingEventId,
        MalformedKind.MissingEventType => MalformedReasons.MissingEventType,
        MalformedKind.MissingKey => MalformedReasons.MissingKey,
        _ => null,
    };

    public static IProducer<byte[]?, byte[]> Producer(string bootstrap) =>
        new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5, Partitioner = Partitioner.Murmur2Random })
            .SetKeySerializer(Serializers.ByteArray!)
            .SetValueSerializer(Serializers.ByteArray)
            .Build();

    /// <summary>Produces <paramref name="count"/> messages (every <paramref name="malformedEvery"/>th one malformed, cycling the kinds) and returns where they landed.</summary>
    public static async Task<List<SentEvent>> ProduceAsync(IProducer<byte[]?, byte[]> producer, string topic, int count, int malformedEvery,
        DateTime baseTime, int customers = 50, int startIndex = 0, CancellationToken cancellationToken = default)
    {
        var kinds = Enum.GetValues<MalformedKind>();
        var tasks = new List<Task<(DeliveryResult<byte[]?, byte[]> Result, string Id, MalformedKind? Kind)>>(count);
        for (var i = startIndex; i < startIndex + count; i++)
        {
            MalformedKind? kind = malformedEvery > 0 && i % malformedEvery == malformedEvery - 1 ? kinds[i / malformedEvery % kinds.Length] : null;
            var id = $"{i:D8}-{Guid.NewGuid():N}";
            var message = Message(id, 1 + i % customers, baseTime.AddSeconds(i % 86_400 * 0.5), kind);
            var captured = kind;
            tasks.Add(producer.ProduceAsync(topic, message, cancellationToken).ContinueWith(t => (t.Result, id, captured), TaskScheduler.Default));
        }
        var sent = new List<SentEvent>(count);
        foreach (var t in tasks)
        {
            var (result, id, kind) = await t;
            sent.Add(new SentEvent(result.Partition.Value, result.Offset.Value, id, kind, ReasonOf(kind)));
        }
        return sent;
    }
}
