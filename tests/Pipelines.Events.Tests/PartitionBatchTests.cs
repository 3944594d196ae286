using Confluent.Kafka;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>The batch keeps message values in shared buffers and decodes them on the write's thread.</summary>
public sealed class PartitionBatchTests
{
    private static readonly DateTime KafkaTime = new(2025, 12, 9, 12, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Received = new(2025, 12, 9, 12, 0, 1, DateTimeKind.Utc);

    [Fact]
    public void Values_across_buffer_boundaries_and_larger_than_a_buffer_decode_as_each_message_alone()
    {
        var batch = new PartitionBatch(new TopicPartition("t", 3));
        var messages = new List<(byte[]? Key, byte[] Value)>();
        for (var i = 0; i < 3000; i++)
        {
            // ~70-byte events fill several 64 KiB buffers; every 500th has a 100 KiB event id (bigger than a buffer),
            // every 7th no key, every 11th a truncated value (malformed).
            var id = i % 500 == 0 ? new string('x', 100_000) : $"event-{i}";
            var value = TestEvents.Encode(id, i, "LIKE", i % 3 == 0 ? null : i, KafkaTime.AddSeconds(i).ToString("O"));
            if (i % 11 == 0) value = value[..^1];
            var key = i % 7 == 0 ? null : System.Text.Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            messages.Add((key, value));
            batch.Add(100 + i, key, value, KafkaTime, Received);
        }

        batch.Decode();

        Assert.Equal(3000, batch.Count);
        Assert.Equal(100, batch.FirstOffset);
        Assert.Equal(3099, batch.LastOffset);
        var expectedEvents = new List<LakeEvent>();
        var expectedMalformed = new List<(long Offset, string Raw, string Reason)>();
        for (var i = 0; i < messages.Count; i++)
        {
            var (key, value) = messages[i];
            if (CustomerEventDecoder.Decode(key is { Length: > 0 }, value, KafkaTime, Received, out var e, out var reason, out _) == CustomerEventDecoder.Outcome.Valid)
            {
                expectedEvents.Add(e);
            }
            else
            {
                expectedMalformed.Add((100 + i, Convert.ToBase64String(value), reason));
            }
        }
        Assert.Equal(expectedEvents, batch.Events);
        Assert.Equal(expectedMalformed, batch.Malformed.Select(m => (m.Offset, m.RawBase64, m.Reason)));
        Assert.Contains(batch.Malformed, m => m.Reason == Contracts.MalformedReasons.MissingKey);
        Assert.Contains(batch.Events, e => e.EventId.Length == 100_000);

        // A retried write decodes nothing twice.
        batch.Decode();
        Assert.Equal(expectedEvents.Count, batch.Events.Count);
        Assert.Throws<InvalidOperationException>(() => batch.Add(5000, null, [1], KafkaTime, Received));
    }

    [Fact]
    public void A_batch_filling_after_another_was_decoded_reuses_its_buffers_without_either_seeing_the_others_bytes()
    {
        var first = new PartitionBatch(new TopicPartition("t", 0));
        var second = new PartitionBatch(new TopicPartition("t", 1));
        var secondValues = new List<byte[]>();
        void AddToSecond(int i)
        {
            var value = TestEvents.Encode($"second-{i}", i, "VIEW", i, KafkaTime.AddSeconds(i).ToString("O"));
            secondValues.Add(value);
            second.Add(i, "k"u8.ToArray(), value, KafkaTime, Received);
        }
        for (var i = 0; i < 2500; i++)
        {
            first.Add(i, "k"u8.ToArray(), TestEvents.Encode($"first-{i}", i, "LIKE", i, KafkaTime.ToString("O")), KafkaTime, Received);
            AddToSecond(i);
        }
        first.Decode(); // returns its buffers and record blocks to the pools while the second batch is still open

        for (var i = 2500; i < 5000; i++) AddToSecond(i); // may rent what the first returned (the pools are shared)

        second.Decode();
        Assert.Equal(Enumerable.Range(0, 2500).Select(i => $"first-{i}"), first.Events.Select(e => e.EventId));
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => $"second-{i}"), second.Events.Select(e => e.EventId));
        Assert.Empty(second.Malformed);
    }
}
