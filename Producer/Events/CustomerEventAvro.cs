using Avro;
using Avro.IO;
using CustomerData.Contracts;

namespace CustomerData.Producer.Events;

/// <summary>One behaviour event (SPEC section 3), as the Avro contract has it.</summary>
public readonly record struct CustomerEvent(string EventId, int CustomerId, string EventType, int? ProductId, string EventTimestamp);

/// <summary>
/// Plain Avro binary of <see cref="CustomerEventSchema"/> (no schema-registry framing): the fields written in the
/// schema's order with Apache.Avro's <see cref="BinaryEncoder"/>, which is several times faster than a
/// GenericDatumWriter. The field list is checked against the .avsc once, so a contract change fails loudly here.
/// </summary>
public sealed class CustomerEventAvro
{
    private static readonly string[] s_expectedFields = ["event_id", "customer_id", "event_type", "product_id", "event_timestamp"];

    private readonly MemoryStream _buffer = new(128);
    private readonly BinaryEncoder _encoder;

    static CustomerEventAvro()
    {
        var fields = CustomerEventSchema.Schema.Fields;
        var actual = fields.Select(f => f.Name).ToArray();
        var productId = fields.FirstOrDefault(f => f.Name == "product_id")?.Schema as UnionSchema;
        if (!actual.SequenceEqual(s_expectedFields) || productId is null || productId.Schemas[0].Tag != Schema.Type.Null)
        {
            throw new InvalidOperationException(
                $"customer_event.avsc changed (fields {string.Join(", ", actual)}); update {nameof(CustomerEventAvro)} to match it.");
        }
    }

    public CustomerEventAvro() => _encoder = new BinaryEncoder(_buffer);

    /// <summary>Encodes one event; not thread-safe (one instance per sending thread).</summary>
    public byte[] Encode(in CustomerEvent e)
    {
        _buffer.SetLength(0);
        _encoder.WriteString(e.EventId);
        _encoder.WriteInt(e.CustomerId);
        _encoder.WriteString(e.EventType);
        if (e.ProductId is { } productId)
        {
            _encoder.WriteUnionIndex(1);
            _encoder.WriteInt(productId);
        }
        else
        {
            _encoder.WriteUnionIndex(0);
        }
        _encoder.WriteString(e.EventTimestamp);
        _encoder.Flush();
        return _buffer.ToArray();
    }
}
