namespace CustomerData.Contracts;

/// <summary>
/// Kinds of bad message the Producer's <c>--malformed-rate</c> mixes into the event stream,
/// every one of which Pipeline C must survive (SPEC section 5, Pipeline C).
/// Three of them are repaired rather than set apart: see <see cref="MalformedReasons"/>.
/// </summary>
public enum MalformedKind
{
    /// <summary>Bytes that are not Avro at all → malformed, <see cref="MalformedReasons.Undecodable"/>.</summary>
    NotAvro,
    /// <summary>A valid Avro record cut short → malformed, <see cref="MalformedReasons.Undecodable"/>.</summary>
    TruncatedAvro,
    /// <summary>event_id empty → malformed, <see cref="MalformedReasons.MissingEventId"/>.</summary>
    MissingEventId,
    /// <summary>event_type empty → malformed, <see cref="MalformedReasons.MissingEventType"/>.</summary>
    MissingEventType,
    /// <summary>event_timestamp not ISO-8601 → kept; the Kafka message timestamp is used instead.</summary>
    UnparseableTimestamp,
    /// <summary>product_id below zero → kept with product_id null.</summary>
    NegativeProductId,
    /// <summary>No message key → malformed, <see cref="MalformedReasons.MissingKey"/>.</summary>
    MissingKey,
}

/// <summary>The reason a message was set apart in the malformed area (stored as this text).</summary>
public static class MalformedReasons
{
    /// <summary>Not decodable as the Avro contract: not Avro, truncated, or with trailing bytes.</summary>
    public const string Undecodable = "undecodable";
    /// <summary>event_id empty or absent (the Avro contract has no null for it, so empty means missing).</summary>
    public const string MissingEventId = "missing_event_id";
    /// <summary>event_type empty or absent.</summary>
    public const string MissingEventType = "missing_event_type";
    /// <summary>The Kafka message has no key (the key is the customer_id as text).</summary>
    public const string MissingKey = "missing_key";
    /// <summary>Confluent wire format whose schema id the schema registry does not know.</summary>
    public const string UnknownSchemaId = "unknown_schema_id";
}
