using Avro.Generic;
using Avro.IO;
using CustomerData.Contracts;
using CustomerData.Producer.Events;

namespace CustomerData.Producer.Tests;

public sealed class AvroEncodingTests
{
    public static TheoryData<string, int, string, int?, string> Events() => new()
    {
        { "0f8fad5b-d9cb-469f-a165-70867728950e", 1, "LIKE", 17, "2025-12-09T18:18:50.850395Z" },
        { "", int.MaxValue, "", null, "not a timestamp" },
        { "ünïcødé-✓", -64, "CART_ADD", -1, "2025-01-01T00:00:00.000000Z" },
        { new string('x', 300), 63, "WISHLIST", int.MinValue, "" },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void Encoding_matches_Apache_Avro_GenericDatumWriter_for_the_avsc(string eventId, int customerId, string eventType, int? productId, string timestamp)
    {
        var ours = CustomerEventAvro.Encode(new CustomerEvent(eventId, customerId, eventType, productId, timestamp));

        var record = new GenericRecord(CustomerEventSchema.Schema);
        record.Add("event_id", eventId);
        record.Add("customer_id", customerId);
        record.Add("event_type", eventType);
        record.Add("product_id", productId);
        record.Add("event_timestamp", timestamp);
        using var expected = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(CustomerEventSchema.Schema).Write(record, new BinaryEncoder(expected));

        Assert.Equal(expected.ToArray(), ours);
    }

    [Fact]
    public void Generated_events_decode_with_the_avsc_and_carry_a_microsecond_utc_timestamp()
    {
        var generator = new EventGenerator(3, 100, 10, 0);
        for (var i = 0; i < 200; i++)
        {
            var message = generator.Next();
            using var stream = new MemoryStream(message.Value);
            var record = new GenericDatumReader<GenericRecord>(CustomerEventSchema.Schema, CustomerEventSchema.Schema).Read(null!, new BinaryDecoder(stream));

            Assert.Equal(stream.Length, stream.Position);
            Assert.Equal(message.Key, record["customer_id"].ToString());
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", (string)record["event_timestamp"]);
            Assert.Equal(4, Guid.Parse((string)record["event_id"]).Version);
        }
    }
}
