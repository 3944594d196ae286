using CustomerData.Lake;
using CustomerData.Contracts;

namespace CustomerData.Pipelines.Events.Tests;

public sealed class DecoderTests
{
    private static readonly DateTime KafkaTime = new(2025, 12, 9, 23, 59, 58, 123, DateTimeKind.Utc);
    private static readonly DateTime Now = new(2025, 12, 10, 0, 0, 1, DateTimeKind.Utc);

    private static (CustomerEventDecoder.Outcome Outcome, LakeEvent Event, string Reason) Decode(Confluent.Kafka.Message<byte[]?, byte[]> m)
    {
        var outcome = CustomerEventDecoder.Decode(m.Key is { Length: > 0 }, m.Value, KafkaTime, Now, out var e, out var reason, out _);
        return (outcome, e, reason);
    }

    [Fact]
    public void ValidRecordFromApacheAvroWriterDecodesToTheSameFields()
    {
        var time = new DateTime(2025, 12, 9, 18, 18, 50, DateTimeKind.Utc).AddTicks(8_503_950);
        var (outcome, e, _) = Decode(TestEvents.Message("dd4b27a2-1", 2942, time));
        Assert.Equal(CustomerEventDecoder.Outcome.Valid, outcome);
        Assert.Equal("dd4b27a2-1", e.EventId);
        Assert.Equal(2942, e.CustomerId);
        Assert.Equal(CustomerEventSchema.EventTypes[2942 % 3], e.EventType);
        Assert.Equal(7, e.ProductId);
        Assert.Equal(time, e.EventTimestamp);
        Assert.Equal(DateTimeKind.Utc, e.EventTimestamp.Kind);
        Assert.Equal(new DateOnly(2025, 12, 9), e.EventDate);
        Assert.Equal(Now, e.IngestionTimestamp);
    }

    [Fact]
    public void NullProductIdAndOffsetTimestampsAreNormalisedToUtc()
    {
        var bytes = TestEvents.Encode("e1", 5, "LIKE", null, "2025-12-10T01:30:00+02:00");
        var outcome = CustomerEventDecoder.Decode(hasNonEmptyKey: true, bytes, KafkaTime, Now, out var e, out _, out _);
        Assert.Equal(CustomerEventDecoder.Outcome.Valid, outcome);
        Assert.Null(e.ProductId);
        Assert.Equal(new DateTime(2025, 12, 9, 23, 30, 0, DateTimeKind.Utc), e.EventTimestamp);
        Assert.Equal(new DateOnly(2025, 12, 9), e.EventDate);
    }

    [Theory]
    [InlineData("2025-12-09T18:18:50.8503950Z", "2025-12-09T18:18:50.8503950Z")]
    [InlineData("2025-12-10T01:18:50.8503950+07:00", "2025-12-09T18:18:50.8503950Z")]
    [InlineData("2025-12-09T18:18:50.850395Z", "2025-12-09T18:18:50.8503950Z")]
    [InlineData("2025-12-09T18:18:50.850395", "2025-12-09T18:18:50.8503950Z")]
    [InlineData("2025-12-09 18:18:50Z", "2025-12-09T18:18:50.0000000Z")]
    public void TimestampFormatsParseToTheSameUtcInstant(string text, string expected)
    {
        var bytes = TestEvents.Encode("e1", 5, "LIKE", 1, text);
        CustomerEventDecoder.Decode(hasNonEmptyKey: true, bytes, KafkaTime, Now, out var e, out _, out _);
        Assert.Equal(DateTime.Parse(expected, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal), e.EventTimestamp);
        Assert.Equal(DateTimeKind.Utc, e.EventTimestamp.Kind);
    }

    [Theory]
    [InlineData(MalformedKind.NotAvro, MalformedReasons.Undecodable)]
    [InlineData(MalformedKind.TruncatedAvro, MalformedReasons.Undecodable)]
    [InlineData(MalformedKind.MissingEventId, MalformedReasons.MissingEventId)]
    [InlineData(MalformedKind.MissingEventType, MalformedReasons.MissingEventType)]
    [InlineData(MalformedKind.MissingKey, MalformedReasons.MissingKey)]
    public void EachMalformedKindGetsItsReason(MalformedKind kind, string reason)
    {
        var result = Decode(TestEvents.Message("e1", 9, KafkaTime, kind));
        Assert.Equal(CustomerEventDecoder.Outcome.Malformed, result.Outcome);
        Assert.Equal(reason, result.Reason);
    }

    [Fact]
    public void TrailingBytesAndEmptyMessagesAreUndecodable()
    {
        var valid = TestEvents.Encode("e1", 1, "LIKE", 3, "2025-12-09T00:00:00Z");
        foreach (var bytes in new[] { [.. valid, 0], Array.Empty<byte>(), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] })
        {
            var outcome = CustomerEventDecoder.Decode(hasNonEmptyKey: true, bytes, KafkaTime, Now, out _, out var reason, out var detail);
            Assert.Equal(CustomerEventDecoder.Outcome.Malformed, outcome);
            Assert.Equal(MalformedReasons.Undecodable, reason);
            Assert.NotEmpty(detail);
        }
    }

    [Fact]
    public void UnparseableTimestampFallsBackToTheKafkaTimestamp()
    {
        var (outcome, e, _) = Decode(TestEvents.Message("e1", 9, Now, MalformedKind.UnparseableTimestamp));
        Assert.Equal(CustomerEventDecoder.Outcome.Valid, outcome);
        Assert.Equal(KafkaTime, e.EventTimestamp);
        Assert.Equal(new DateOnly(2025, 12, 9), e.EventDate);
    }

    [Fact]
    public void NegativeProductIdBecomesNull()
    {
        var (outcome, e, _) = Decode(TestEvents.Message("e1", 9, Now, MalformedKind.NegativeProductId));
        Assert.Equal(CustomerEventDecoder.Outcome.Valid, outcome);
        Assert.Null(e.ProductId);
    }

    [Fact]
    public void BatchFileNamesRoundTripWithDashesInTheTopic()
    {
        var name = EventFileNames.BatchFile("customer-events.v2", 12, 1_234_567);
        Assert.Equal("batch-customer-events.v2-00012-00000000000001234567.parquet", name);
        Assert.True(EventFileNames.TryParseBatch(name, out var parsed));
        Assert.Equal(new BatchFileName("customer-events.v2", 12, 1_234_567), parsed);
        Assert.False(EventFileNames.TryParseBatch(EventFileNames.CompactedFile(3, 0), out _));
    }
}
