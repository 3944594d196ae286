using System.Globalization;
using System.Text;
using CustomerData.Contracts;

namespace CustomerData.Pipelines.Events;

/// <summary>A valid event after the §5 C transform, ready for the lake.</summary>
public readonly record struct LakeEvent(
    string EventId,
    int CustomerId,
    string EventType,
    int? ProductId,
    DateTime EventTimestamp,
    DateTime IngestionTimestamp)
{
    /// <summary>The UTC day of <see cref="EventTimestamp"/>: the partition the event lands in.</summary>
    public DateOnly EventDate => DateOnly.FromDateTime(EventTimestamp);
}

/// <summary>A message set apart: the raw bytes, why, and where it came from.</summary>
public sealed record MalformedEvent(
    string RawBase64,
    string Reason,
    string Detail,
    string Topic,
    int Partition,
    long Offset,
    DateTime KafkaTimestamp,
    DateTime IngestionTimestamp)
{
    public DateOnly KafkaDate => DateOnly.FromDateTime(KafkaTimestamp);
}

/// <summary>
/// Permissive decoding of the Avro contract (<see cref="CustomerEventSchema"/>): a hand-written reader of
/// exactly that record's binary encoding (fields in schema order, no framing). It never throws: anything
/// that is not exactly one record (bad varint, bad UTF-8, bad union branch, truncated, trailing bytes) is
/// <see cref="MalformedReasons.Undecodable"/>. A test checks it against Apache.Avro's own writer.
/// </summary>
public static class CustomerEventDecoder
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public enum Outcome { Valid, Malformed }

    /// <summary>
    /// Decodes and transforms one message. Returns the event, or the malformed reason with a detail. Only whether the
    /// message had a non-empty key matters (the key's bytes are not used).
    /// </summary>
    public static Outcome Decode(
        bool hasNonEmptyKey, ReadOnlySpan<byte> value, DateTime kafkaTimestampUtc, DateTime ingestionUtc,
        out LakeEvent lakeEvent, out string reason, out string detail) =>
        Decode(hasNonEmptyKey, value, kafkaTimestampUtc, ingestionUtc, null, out lakeEvent, out reason, out detail);

    /// <summary>
    /// Like the bare-Avro overload, accepting the Confluent wire format too (magic byte 0, 4-byte big-endian schema id,
    /// then Avro of that writer schema). With a registry (<paramref name="schemas"/>), the writer schema comes from it:
    /// the contract's own is read by the fast path, any other through Avro schema resolution. A bare message whose first
    /// byte happens to be 0 (an empty event_id) still decodes as bare Avro when the framed reading fails.
    /// </summary>
    public static Outcome Decode(
        bool hasNonEmptyKey, ReadOnlySpan<byte> value, DateTime kafkaTimestampUtc, DateTime ingestionUtc, WriterSchemas? schemas,
        out LakeEvent lakeEvent, out string reason, out string detail)
    {
        lakeEvent = default;
        if (value.Length >= 5 && value[0] == 0)
        {
            var id = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(value[1..5]);
            var body = value[5..];
            if (schemas is { HasRegistry: true })
            {
                var writer = schemas.Get(id);
                if (writer is { IsContract: false })
                {
                    if (!WriterSchemas.TryResolve(writer, body, out var record, out detail))
                    {
                        reason = MalformedReasons.Undecodable;
                        return Outcome.Malformed;
                    }
                    var ts = record!["event_timestamp"] as string ?? "";
                    return Validate(hasNonEmptyKey, record["event_id"] as string ?? "", record["customer_id"] is int c ? c : 0,
                        record["event_type"] as string ?? "", record["product_id"] as int?, Encoding.UTF8.GetBytes(ts),
                        kafkaTimestampUtc, ingestionUtc, out lakeEvent, out reason, out detail);
                }
                if (writer is { IsContract: true } && TryReadRecord(body, out var e1, out var c1, out var t1, out var p1, out var ts1, out detail))
                {
                    return Validate(hasNonEmptyKey, e1, c1, t1, p1, ts1, kafkaTimestampUtc, ingestionUtc, out lakeEvent, out reason, out detail);
                }
                if (writer is null && !TryReadRecord(value, out _, out _, out _, out _, out _, out _))
                {
                    reason = MalformedReasons.UnknownSchemaId;
                    detail = $"schema id {id} is not in the schema registry";
                    return Outcome.Malformed;
                }
            }
            else if (TryReadRecord(body, out var e2, out var c2, out var t2, out var p2, out var ts2, out _))
            {
                // No registry: a framed message is read as the contract's encoding.
                return Validate(hasNonEmptyKey, e2, c2, t2, p2, ts2, kafkaTimestampUtc, ingestionUtc, out lakeEvent, out reason, out detail);
            }
        }
        if (!TryReadRecord(value, out var eventId, out var customerId, out var eventType, out var productId, out var timestampBytes, out detail))
        {
            reason = MalformedReasons.Undecodable;
            return Outcome.Malformed;
        }
        return Validate(hasNonEmptyKey, eventId, customerId, eventType, productId, timestampBytes, kafkaTimestampUtc, ingestionUtc, out lakeEvent, out reason, out detail);
    }

    /// <summary>The §5 C checks and transform of a decoded record, whichever way it was decoded.</summary>
    private static Outcome Validate(bool hasNonEmptyKey, string eventId, int customerId, string eventType, int? productId, ReadOnlySpan<byte> timestampBytes,
        DateTime kafkaTimestampUtc, DateTime ingestionUtc, out LakeEvent lakeEvent, out string reason, out string detail)
    {
        lakeEvent = default;
        if (eventId.Length == 0)
        {
            reason = MalformedReasons.MissingEventId;
            detail = "event_id is empty";
            return Outcome.Malformed;
        }
        if (eventType.Length == 0)
        {
            reason = MalformedReasons.MissingEventType;
            detail = "event_type is empty";
            return Outcome.Malformed;
        }
        if (!hasNonEmptyKey)
        {
            reason = MalformedReasons.MissingKey;
            detail = "the message has no key";
            return Outcome.Malformed;
        }
        var eventTimestamp = ParseTimestamp(timestampBytes) ?? kafkaTimestampUtc;
        lakeEvent = new LakeEvent(eventId, customerId, eventType, productId is < 0 ? null : productId,
            TruncateToMicros(eventTimestamp), TruncateToMicros(ingestionUtc));
        reason = "";
        detail = "";
        return Outcome.Valid;
    }

    /// <summary>The UTF-8 timestamp parsed without allocating (invalid UTF-8 simply does not parse).</summary>
    private static DateTime? ParseTimestamp(ReadOnlySpan<byte> utf8)
    {
        // Fast path: .NET's round-trip form ("O", 7 fractional digits) straight from the UTF-8 bytes.
        if ((utf8.Length == 28 || utf8.Length == 33)
            && System.Buffers.Text.Utf8Parser.TryParse(utf8, out DateTimeOffset fast, out var consumed, 'O') && consumed == utf8.Length && fast.Year >= 1970)
        {
            return fast.UtcDateTime;
        }
        if (utf8.Length == 0 || utf8.Length > 64) return utf8.Length == 0 ? null : ParseTimestamp(Encoding.UTF8.GetString(utf8));
        Span<char> chars = stackalloc char[64];
        return Encoding.UTF8.TryGetChars(utf8, chars, out var written) ? ParseTimestamp(chars[..written]) : null;
    }

    /// <summary>ISO-8601 to UTC; a text without offset is taken as UTC. Null when it does not parse.</summary>
    public static DateTime? ParseTimestamp(ReadOnlySpan<char> text)
    {
        if (text.Length == 0) return null;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal | DateTimeStyles.AllowWhiteSpaces, out var parsed)
            && parsed.Year >= 1970 && parsed.Year <= 9999
            ? parsed.UtcDateTime
            : null;
    }

    /// <summary>Parquet stores microseconds: cut the ticks so a value reads back equal.</summary>
    public static DateTime TruncateToMicros(DateTime utc) =>
        new(utc.Ticks - utc.Ticks % 10, DateTimeKind.Utc);

    private static bool TryReadRecord(ReadOnlySpan<byte> data, out string eventId, out int customerId, out string eventType,
        out int? productId, out ReadOnlySpan<byte> timestampBytes, out string detail)
    {
        eventId = eventType = "";
        timestampBytes = default;
        customerId = 0;
        productId = null;
        var pos = 0;
        if (!TryReadString(data, ref pos, out eventId, out detail, "event_id")) return false;
        if (!TryReadInt(data, ref pos, out customerId)) { detail = "customer_id: bad or truncated int"; return false; }
        if (!TryReadEventType(data, ref pos, out eventType, out detail)) return false;
        if (!TryReadLong(data, ref pos, out var branch)) { detail = "product_id: truncated union index"; return false; }
        if (branch == 1)
        {
            if (!TryReadInt(data, ref pos, out var pid)) { detail = "product_id: bad or truncated int"; return false; }
            productId = pid;
        }
        else if (branch != 0)
        {
            detail = $"product_id: union index {branch} out of range";
            return false;
        }
        if (!TryReadLong(data, ref pos, out var timestampLength)) { detail = "event_timestamp: truncated length"; return false; }
        if (timestampLength < 0 || timestampLength > data.Length - pos) { detail = $"event_timestamp: length {timestampLength} past the end of the message"; return false; }
        timestampBytes = data.Slice(pos, (int)timestampLength);
        pos += (int)timestampLength;
        if (pos != data.Length)
        {
            detail = $"{data.Length - pos} trailing byte(s) after the record";
            return false;
        }
        detail = "";
        return true;
    }

    private static readonly (byte[] Utf8, string Text)[] s_knownTypes =
        [.. CustomerEventSchema.EventTypes.Select(t => (Encoding.UTF8.GetBytes(t), t))];

    /// <summary>event_type, reusing the contract's three strings instead of allocating one per event.</summary>
    private static bool TryReadEventType(ReadOnlySpan<byte> data, ref int pos, out string value, out string detail)
    {
        var start = pos;
        if (TryReadLong(data, ref pos, out var length) && length >= 0 && length <= data.Length - pos)
        {
            var bytes = data.Slice(pos, (int)length);
            foreach (var (utf8, text) in s_knownTypes)
            {
                if (bytes.SequenceEqual(utf8))
                {
                    pos += (int)length;
                    value = text;
                    detail = "";
                    return true;
                }
            }
        }
        pos = start;
        return TryReadString(data, ref pos, out value, out detail, "event_type");
    }

    private static bool TryReadString(ReadOnlySpan<byte> data, ref int pos, out string value, out string detail, string field)
    {
        value = "";
        if (!TryReadLong(data, ref pos, out var length)) { detail = $"{field}: truncated length"; return false; }
        if (length < 0 || length > data.Length - pos) { detail = $"{field}: length {length} past the end of the message"; return false; }
        try
        {
            value = s_strictUtf8.GetString(data.Slice(pos, (int)length));
        }
        catch (DecoderFallbackException)
        {
            detail = $"{field}: not UTF-8";
            return false;
        }
        pos += (int)length;
        detail = "";
        return true;
    }

    private static bool TryReadInt(ReadOnlySpan<byte> data, ref int pos, out int value)
    {
        value = 0;
        if (!TryReadLong(data, ref pos, out var l) || l < int.MinValue || l > int.MaxValue) return false;
        value = (int)l;
        return true;
    }

    /// <summary>Avro long: zig-zag varint, at most 10 bytes.</summary>
    private static bool TryReadLong(ReadOnlySpan<byte> data, ref int pos, out long value)
    {
        ulong raw = 0;
        var shift = 0;
        value = 0;
        while (true)
        {
            if (pos >= data.Length || shift > 63) return false;
            var b = data[pos++];
            raw |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
            shift += 7;
        }
        value = (long)(raw >> 1) ^ -(long)(raw & 1);
        return true;
    }
}
