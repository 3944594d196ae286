using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;
using CustomerData.Contracts;
using static CustomerData.Producer.Tests.TestSupport;

namespace CustomerData.Producer.Tests;

public sealed partial class EventTests(KafkaFixture kafka)
{
    [GeneratedRegex("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$")]
    private static partial Regex TraceParent();

    [Fact]
    public async Task Burst_mixes_every_malformed_kind_in_the_asked_share_and_valid_events_decode_with_the_avsc()
    {
        const int count = 7_000;
        const double rate = 0.35;
        var topic = "events-" + Guid.NewGuid().ToString("N")[..8];

        var result = await RunCliAsync("events", "--count", "7000", "--malformed-rate", "0.35", "--seed", "11",
            "--kafka", kafka.Cluster.BootstrapServers, "--topic", topic, "--customers", "5000", "--products", "500");
        Assert.True(result.ExitCode == 0, result.Error);
        var messages = Consume(kafka.Cluster.BootstrapServers, topic, count);

        Assert.Equal(count, messages.Count);
        var byKind = messages.GroupBy(Classify).ToDictionary(g => g.Key, g => g.Count());
        var expectedPerKind = count * rate / Enum.GetValues<MalformedKind>().Length;
        foreach (var kind in Enum.GetValues<MalformedKind>())
        {
            var seen = byKind.GetValueOrDefault(kind.ToString());
            Assert.True(seen > expectedPerKind * 0.7 && seen < expectedPerKind * 1.3, $"{kind}: {seen} messages, expected about {expectedPerKind:F0}");
        }
        var valid = byKind.GetValueOrDefault("valid");
        Assert.InRange(valid, count * (1 - rate) * 0.9, count * (1 - rate) * 1.1);
        Assert.Equal(count, byKind.Values.Sum());
        // Every message, malformed or not, carries the W3C trace context of its send batch.
        Assert.All(messages, m => Assert.Matches(TraceParent(), Header(m, "traceparent")));
        Assert.True(messages.Select(m => Header(m, "traceparent")).Distinct().Count() >= 1);
    }

    [Fact]
    public async Task Valid_events_have_the_customer_id_as_key_and_spec_fields()
    {
        var topic = "valid-" + Guid.NewGuid().ToString("N")[..8];

        var result = await RunCliAsync("events", "--count", "500", "--kafka", kafka.Cluster.BootstrapServers, "--topic", topic, "--customers", "50", "--products", "20");
        Assert.True(result.ExitCode == 0, result.Error);
        var messages = Consume(kafka.Cluster.BootstrapServers, topic, 500);

        Assert.Equal(500, messages.Count);
        foreach (var m in messages)
        {
            var record = Decode(m.Message.Value);
            Assert.NotNull(record);
            var customerId = (int)record["customer_id"];
            Assert.Equal(customerId.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetString(m.Message.Key!));
            Assert.InRange(customerId, 1, 50);
            Assert.True(Guid.TryParse((string)record["event_id"], out _));
            Assert.Contains((string)record["event_type"], CustomerEventSchema.EventTypes);
            Assert.True(record["product_id"] is null or (int and >= 1 and <= 20));
            var timestamp = DateTimeOffset.Parse((string)record["event_timestamp"], CultureInfo.InvariantCulture);
            Assert.InRange(timestamp, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
            Assert.EndsWith("Z", (string)record["event_timestamp"], StringComparison.Ordinal);
        }
        // Batches of one burst share their span's trace: one trace id per send batch.
        Assert.Single(messages.Select(m => Header(m, "traceparent")).Distinct());
        Assert.Equal(3, messages.Select(m => Decode(m.Message.Value)!["event_type"]).Distinct().Count());
    }

    /// <summary>Works out a message's kind from its bytes alone, as Pipeline C must.</summary>
    private static string Classify(ConsumeResult<byte[]?, byte[]> m)
    {
        if (m.Message.Key is null) return Assert.IsType<GenericRecord>(Decode(m.Message.Value)) is not null ? nameof(MalformedKind.MissingKey) : "?";
        var record = Decode(m.Message.Value);
        if (record is null) return m.Message.Value.Length > 0 && m.Message.Value[0] == (byte)'{' ? nameof(MalformedKind.NotAvro) : nameof(MalformedKind.TruncatedAvro);
        Assert.Equal(((int)record["customer_id"]).ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetString(m.Message.Key));
        if ((string)record["event_id"] == "") return nameof(MalformedKind.MissingEventId);
        if ((string)record["event_type"] == "") return nameof(MalformedKind.MissingEventType);
        if (!DateTimeOffset.TryParse((string)record["event_timestamp"], CultureInfo.InvariantCulture, DateTimeStyles.None, out _)) return nameof(MalformedKind.UnparseableTimestamp);
        if (record["product_id"] is int p && p < 0) return nameof(MalformedKind.NegativeProductId);
        return "valid";
    }

    /// <summary>Decodes with the checked-in .avsc; null when the bytes are not exactly one record.</summary>
    private static GenericRecord? Decode(byte[] value)
    {
        try
        {
            using var stream = new MemoryStream(value);
            var record = new GenericDatumReader<GenericRecord>(CustomerEventSchema.Schema, CustomerEventSchema.Schema)
                .Read(null!, new BinaryDecoder(stream));
            return stream.Position == stream.Length ? record : null;
        }
        catch (Exception ex) when (ex is Avro.AvroException or EndOfStreamException or ArgumentException or OverflowException or IOException)
        {
            return null;
        }
    }

    private static string Header(ConsumeResult<byte[]?, byte[]> m, string name) =>
        m.Message.Headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : "";
}
