namespace CustomerData.Contracts;

/// <summary>
/// The Kafka event contract (SPEC section 3): <c>Schemas/customer_event.avsc</c>, checked in and embedded.
/// Messages are plain Avro binary of this schema, without schema-registry framing;
/// the key is the customer_id as UTF-8 text; headers carry W3C traceparent/tracestate.
/// </summary>
public static class CustomerEventSchema
{
    public static string Json { get; } = SourceSchema.ReadResource("customer_event.avsc");

    public static Avro.RecordSchema Schema { get; } = (Avro.RecordSchema)Avro.Schema.Parse(Json);

    public static readonly string[] EventTypes = ["WISHLIST", "LIKE", "CART_ADD"];
}
