using System.Buffers;
using System.Text;
using Avro;
using CustomerData.Contracts;

namespace CustomerData.Producer.Events;

/// <summary>One behaviour event (SPEC section 3), as the Avro contract has it.</summary>
public readonly record struct CustomerEvent(string EventId, int CustomerId, string EventType, int? ProductId, string EventTimestamp);

/// <summary>
/// Plain Avro binary of <see cref="CustomerEventSchema"/> (no schema-registry framing, no container header): the
/// record's fields in schema order, strings as zig-zag varint length + UTF-8, the nullable product_id as union branch
/// 0 (null) or 1 (int). Written straight into a buffer because the live path encodes 100,000+ events a second;
/// the field list is checked against the .avsc once, and the tests compare the bytes with Apache.Avro's
/// GenericDatumWriter and decode them with its reader.
/// </summary>
public static class CustomerEventAvro
{
    private static readonly string[] s_expectedFields = ["event_id", "customer_id", "event_type", "product_id", "event_timestamp"];

    static CustomerEventAvro()
    {
        var fields = CustomerEventSchema.Schema.Fields;
        var actual = fields.Select(f => f.Name).ToArray();
        var types = fields.Select(f => f.Schema.Tag).ToArray();
        var productId = fields.FirstOrDefault(f => f.Name == "product_id")?.Schema as UnionSchema;
        if (!actual.SequenceEqual(s_expectedFields)
            || !types.SequenceEqual([Schema.Type.String, Schema.Type.Int, Schema.Type.String, Schema.Type.Union, Schema.Type.String])
            || productId is null || productId.Count != 2 || productId.Schemas[0].Tag != Schema.Type.Null || productId.Schemas[1].Tag != Schema.Type.Int)
        {
            throw new InvalidOperationException(
                $"customer_event.avsc changed (fields {string.Join(", ", actual)}); update {nameof(CustomerEventAvro)} to match it.");
        }
    }

    /// <summary>Upper bound of an encoded record's size.</summary>
    public static int MaxSize(int eventIdBytes, int eventTypeBytes, int timestampBytes) =>
        3 * 5 + eventIdBytes + 5 + eventTypeBytes + 1 + 5 + timestampBytes;

    public static byte[] Encode(in CustomerEvent e)
    {
        var size = MaxSize(Encoding.UTF8.GetMaxByteCount(e.EventId.Length), Encoding.UTF8.GetMaxByteCount(e.EventType.Length),
            Encoding.UTF8.GetMaxByteCount(e.EventTimestamp.Length));
        var rented = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var writer = new Writer(rented);
            writer.String(e.EventId);
            writer.Int(e.CustomerId);
            writer.String(e.EventType);
            writer.NullableInt(e.ProductId);
            writer.String(e.EventTimestamp);
            return rented.AsSpan(0, writer.Position).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The hot path: the same record from pre-encoded UTF-8 parts, without intermediate strings.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> eventIdUtf8, int customerId, ReadOnlySpan<byte> eventTypeUtf8, int? productId, ReadOnlySpan<byte> timestampUtf8)
    {
        Span<byte> buffer = stackalloc byte[MaxSize(eventIdUtf8.Length, eventTypeUtf8.Length, timestampUtf8.Length)];
        var writer = new Writer(buffer);
        writer.Bytes(eventIdUtf8);
        writer.Int(customerId);
        writer.Bytes(eventTypeUtf8);
        writer.NullableInt(productId);
        writer.Bytes(timestampUtf8);
        return buffer[..writer.Position].ToArray();
    }

    private ref struct Writer(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        public int Position;

        public void Long(long value)
        {
            // Avro int and long: zig-zag, then little-endian base-128 varint.
            var n = (ulong)((value << 1) ^ (value >> 63));
            while (n >= 0x80)
            {
                _buffer[Position++] = (byte)(n | 0x80);
                n >>= 7;
            }
            _buffer[Position++] = (byte)n;
        }

        public void Int(int value) => Long(value);

        public void NullableInt(int? value)
        {
            if (value is { } v)
            {
                Long(1);
                Long(v);
            }
            else
            {
                Long(0);
            }
        }

        public void Bytes(ReadOnlySpan<byte> utf8)
        {
            Long(utf8.Length);
            utf8.CopyTo(_buffer[Position..]);
            Position += utf8.Length;
        }

        public void String(string value)
        {
            var length = Encoding.UTF8.GetByteCount(value);
            Long(length);
            Position += Encoding.UTF8.GetBytes(value, _buffer[Position..]);
        }
    }
}
