using System.Globalization;
using System.Text;
using System.Text.Json;
using CustomerData.Contracts;

namespace CustomerData.Producer.Events;

/// <summary>A message ready for Kafka: key (null when the kind is <see cref="MalformedKind.MissingKey"/>), value, and what it is.</summary>
public readonly record struct EventMessage(string? Key, byte[] Value, MalformedKind? Kind);

/// <summary>
/// Random behaviour events, a share of them replaced by malformed messages of every <see cref="MalformedKind"/>
/// in equal parts. Deterministic for a seed (apart from the timestamps); one instance per sending thread.
/// </summary>
public sealed class EventGenerator
{
    private static readonly MalformedKind[] s_kinds = Enum.GetValues<MalformedKind>();

    private readonly FastRandom _random;
    private readonly int _customers;
    private readonly int _products;
    private readonly double _malformedRate;
    private readonly TimeProvider _time;
    private static readonly byte[][] s_eventTypesUtf8 = CustomerEventSchema.EventTypes.Select(Encoding.UTF8.GetBytes).ToArray();
    private readonly byte[] _guidBytes = new byte[16];
    private readonly string[] _keys;
    private readonly byte[] _timestampUtf8 = new byte[28];
    private long _timestampTicks = -1;

    public EventGenerator(int seed, int customers, int products, double malformedRate, TimeProvider? time = null)
    {
        if (customers < 1 || products < 1) throw new ArgumentException("Events need at least one customer and one product.");
        if (malformedRate is < 0 or > 1 || double.IsNaN(malformedRate)) throw new ArgumentOutOfRangeException(nameof(malformedRate), "The malformed rate is a share between 0 and 1.");
        _random = new FastRandom(seed);
        _customers = customers;
        _products = products;
        _malformedRate = malformedRate;
        _time = time ?? TimeProvider.System;
        // Keys repeat (one per customer): format each once.
        _keys = new string[customers + 1];
    }

    public EventMessage Next()
    {
        if (_malformedRate <= 0 || _random.NextDouble() >= _malformedRate)
        {
            // The hot path: straight to Avro bytes, no intermediate strings.
            var (customerId, eventType, productId) = Draw();
            Span<byte> eventId = stackalloc byte[36];
            new Guid(_guidBytes).TryFormat(eventId, out _);
            return new EventMessage(Key(customerId),
                CustomerEventAvro.Encode(eventId, customerId, s_eventTypesUtf8[eventType], productId, TimestampUtf8()), null);
        }
        var e = NextValidEvent();
        var key = Key(e.CustomerId);

        var kind = s_kinds[_random.Next(s_kinds.Length)];
        return kind switch
        {
            // JSON starts with '{' (0x7B): as an Avro string length that is -62, so no decoder can take it for the record.
            MalformedKind.NotAvro => new EventMessage(key, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
            {
                event_id = e.EventId, customer_id = e.CustomerId, event_type = e.EventType, product_id = e.ProductId, event_timestamp = e.EventTimestamp,
            })), kind),
            // A proper prefix of a record always runs out of bytes before the last field is read.
            MalformedKind.TruncatedAvro => new EventMessage(key, Truncate(CustomerEventAvro.Encode(e)), kind),
            MalformedKind.MissingEventId => new EventMessage(key, CustomerEventAvro.Encode(e with { EventId = "" }), kind),
            MalformedKind.MissingEventType => new EventMessage(key, CustomerEventAvro.Encode(e with { EventType = "" }), kind),
            MalformedKind.UnparseableTimestamp => new EventMessage(key, CustomerEventAvro.Encode(e with { EventTimestamp = "not-a-timestamp " + _random.Next(1000) }), kind),
            MalformedKind.NegativeProductId => new EventMessage(key, CustomerEventAvro.Encode(e with { ProductId = -1 - _random.Next(_products) }), kind),
            MalformedKind.MissingKey => new EventMessage(null, CustomerEventAvro.Encode(e), kind),
            _ => throw new InvalidOperationException($"Unhandled malformed kind {kind}."),
        };
    }

    public CustomerEvent NextValidEvent()
    {
        var (customerId, eventType, productId) = Draw();
        return new CustomerEvent(new Guid(_guidBytes).ToString(), customerId, CustomerEventSchema.EventTypes[eventType], productId,
            Encoding.UTF8.GetString(TimestampUtf8()));
    }

    /// <summary>The random choices of one event; the event id's bytes land in <see cref="_guidBytes"/>.</summary>
    private (int CustomerId, int EventType, int? ProductId) Draw()
    {
        _random.NextBytes(_guidBytes);
        _guidBytes[7] = (byte)((_guidBytes[7] & 0x0F) | 0x40); // version 4
        _guidBytes[8] = (byte)((_guidBytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        var customerId = 1 + _random.Next(_customers);
        var eventType = _random.Next(CustomerEventSchema.EventTypes.Length);
        int? productId = _random.Next(10) < 8 ? 1 + _random.Next(_products) : null;
        return (customerId, eventType, productId);
    }

    /// <summary>Now as ISO-8601 UTC with microseconds (yyyy-MM-ddTHH:mm:ss.ffffffZ), re-formatted only when the microsecond changes.</summary>
    private ReadOnlySpan<byte> TimestampUtf8()
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var ticks = now.Ticks - now.Ticks % 10;
        if (ticks != _timestampTicks)
        {
            // "O" is the fast round-trip format with 7 fraction digits; keep 6 and the Z.
            new DateTime(ticks, DateTimeKind.Utc).TryFormat(_timestampUtf8, out _, "O", CultureInfo.InvariantCulture);
            _timestampUtf8[26] = (byte)'Z';
            _timestampTicks = ticks;
        }
        return _timestampUtf8.AsSpan(0, 27);
    }

    private string Key(int customerId) => _keys[customerId] ??= customerId.ToString(CultureInfo.InvariantCulture);

    private byte[] Truncate(byte[] full) => full[..(1 + _random.Next(full.Length - 1))];
}
