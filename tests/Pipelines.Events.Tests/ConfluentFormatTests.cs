using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using CustomerData.Contracts;
using CustomerData.SchemaRegistry.DevServer;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>Issue 13: events serialized by Confluent's own AvroSerializer (magic byte, schema id, Avro), schema evolution included.</summary>
public sealed class ConfluentFormatTests(KafkaFixture kafka)
{
    private static readonly DateTime BaseTime = new(2025, 12, 9, 12, 0, 0, DateTimeKind.Utc);

    /// <summary>The contract plus a field with a default (a backward-compatible change), in a new position, and without product_id.</summary>
    private static readonly RecordSchema V2 = (RecordSchema)Avro.Schema.Parse("""
        {"type":"record","name":"CustomerEvent","namespace":"com.customerdata.events","fields":[
          {"name":"event_id","type":"string"},
          {"name":"channel","type":"string","default":"web"},
          {"name":"event_type","type":"string"},
          {"name":"customer_id","type":"int"},
          {"name":"event_timestamp","type":"string"}]}
        """);

    [Fact]
    public async Task ConfluentSerializedEventsOfTwoSchemaVersionsLandAsValidAndAnUnknownSchemaIdIsMalformed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var registry = await SchemaRegistryStandIn.StartAsync();
        using var lakeFolder = new TempLake();
        var topic = $"events-confluent-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry.Url });
        var serializer = new AvroSerializer<GenericRecord>(client);
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        var context = new SerializationContext(MessageComponentType.Value, topic);

        var expected = new List<string>();
        var v2Ids = new HashSet<string>();
        var deliveries = new List<Task<DeliveryResult<byte[]?, byte[]>>>();
        var unknownIdOffsets = new List<Task<DeliveryResult<byte[]?, byte[]>>>();
        for (var i = 0; i < 600; i++)
        {
            var id = $"{i:D8}-{Guid.NewGuid():N}";
            var customer = 1 + i % 40;
            byte[] value;
            if (i % 3 == 0)
            {
                var v1 = new GenericRecord(CustomerEventSchema.Schema);
                v1.Add("event_id", id);
                v1.Add("customer_id", customer);
                v1.Add("event_type", "LIKE");
                v1.Add("product_id", i % 2 == 0 ? 5 : null);
                v1.Add("event_timestamp", TestEvents.Iso(BaseTime.AddSeconds(i)));
                value = await serializer.SerializeAsync(v1, context);
            }
            else if (i % 3 == 1)
            {
                var v2 = new GenericRecord(V2);
                v2.Add("event_id", id);
                v2.Add("channel", "app");
                v2.Add("event_type", "CART_ADD");
                v2.Add("customer_id", customer);
                v2.Add("event_timestamp", TestEvents.Iso(BaseTime.AddSeconds(i)));
                value = await serializer.SerializeAsync(v2, context);
                v2Ids.Add(id);
            }
            else
            {
                value = TestEvents.Message(id, customer, BaseTime.AddSeconds(i)).Value; // bare Avro keeps working
            }
            expected.Add(id);
            deliveries.Add(producer.ProduceAsync(topic, new Message<byte[]?, byte[]> { Key = "k"u8.ToArray(), Value = value }, ct));
        }
        for (var i = 0; i < 7; i++)
        {
            // Confluent framing with an id the registry never issued, around a valid contract body.
            var body = TestEvents.Message($"unknown-{i}", 3, BaseTime).Value;
            var framed = new byte[] { 0, 0, 0, 0x27, 0x0F }.Concat(body).ToArray();
            unknownIdOffsets.Add(producer.ProduceAsync(topic, new Message<byte[]?, byte[]> { Key = "k"u8.ToArray(), Value = framed }, ct));
        }
        await Task.WhenAll(deliveries.Concat(unknownIdOffsets));
        Assert.Equal(2, (await client.GetSubjectVersionsAsync(topic + "-value")).Count); // two schema versions registered

        await using (var pipeline = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lakeFolder.Root, topic, group,
            new Dictionary<string, string?> { ["Events:SchemaRegistry:Url"] = registry.Url, ["Events:MaxBatchRecords"] = "200" }))
        {
            await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(60));
        }

        var lake = new CustomerData.Lake.LocalFolderLakeStorage(lakeFolder.Root);
        var events = (await Lake.ReadAllEventsAsync(lake)).Select(e => e.Event).ToList();
        Assert.Equal(expected.Order(StringComparer.Ordinal), events.Select(e => e.EventId).Order(StringComparer.Ordinal));
        Assert.All(events.Where(e => v2Ids.Contains(e.EventId)), e => Assert.Equal(("CART_ADD", (int?)null), (e.EventType, e.ProductId))); // v2 has no product_id: the contract's default
        Assert.Contains(events, e => e.EventType == "LIKE" && e.ProductId == 5);
        var malformed = await Lake.ReadAllMalformedAsync(lake);
        Assert.Equal(7, malformed.Count);
        Assert.All(malformed, m => Assert.Equal(MalformedReasons.UnknownSchemaId, m.Reason));
    }

    [Fact]
    public async Task TheContractRegisteredByConfluentsClientTakesTheFastPathAndAnotherSchemaTheResolver()
    {
        await using var registry = await SchemaRegistryStandIn.StartAsync();
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry.Url });
        var contractId = await client.RegisterSchemaAsync("s-value", new Confluent.SchemaRegistry.Schema(CustomerEventSchema.Json, SchemaType.Avro));
        var v2Id = await client.RegisterSchemaAsync("s-value", new Confluent.SchemaRegistry.Schema(V2.ToString(), SchemaType.Avro));
        using var schemas = new WriterSchemas(new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry.Url }), TimeSpan.FromSeconds(10));
        Assert.Equal((true, (object?)null), (schemas.Get(contractId)!.IsContract, (object?)schemas.Get(contractId)!.Resolver));
        Assert.False(schemas.Get(v2Id)!.IsContract);
        Assert.Null(schemas.Get(4711));
    }

    [Fact]
    public void WithoutARegistryAFramedContractRecordIsReadAsTheContractAndBareAvroStaysAsItWas()
    {
        var bare = TestEvents.Encode("e-1", 7, "LIKE", 3, "2025-12-09T12:00:00Z");
        var framed = new byte[] { 0, 0, 0, 0, 1 }.Concat(bare).ToArray();
        foreach (var value in new[] { bare, framed })
        {
            Assert.Equal(CustomerEventDecoder.Outcome.Valid,
                CustomerEventDecoder.Decode(true, value, BaseTime, BaseTime, null, out var e, out _, out _));
            Assert.Equal(("e-1", 7, "LIKE", (int?)3), (e.EventId, e.CustomerId, e.EventType, e.ProductId));
        }
        // A bare record with an empty event_id starts with byte 0, like the framing: it is still missing_event_id.
        var emptyId = TestEvents.Encode("", 7, "LIKE", 3, "2025-12-09T12:00:00Z");
        Assert.Equal(CustomerEventDecoder.Outcome.Malformed, CustomerEventDecoder.Decode(true, emptyId, BaseTime, BaseTime, null, out _, out var reason, out _));
        Assert.Equal(MalformedReasons.MissingEventId, reason);
    }
}
