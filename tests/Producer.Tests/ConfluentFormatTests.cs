using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using CustomerData.Contracts;
using CustomerData.SchemaRegistry.DevServer;
using static CustomerData.Producer.Tests.TestSupport;

namespace CustomerData.Producer.Tests;

public sealed class ConfluentFormatTests(KafkaFixture kafka)
{
    [Fact]
    public async Task Format_confluent_registers_the_contract_and_Confluents_own_deserializer_reads_every_event()
    {
        await using var registry = await SchemaRegistryStandIn.StartAsync();
        var topic = "confluent-" + Guid.NewGuid().ToString("N")[..8];

        var result = await RunCliAsync("events", "--count", "300", "--kafka", kafka.Cluster.BootstrapServers, "--topic", topic,
            "--format", "confluent", "--schema-registry-url", registry.Url);
        Assert.True(result.ExitCode == 0, result.Error);
        var messages = Consume(kafka.Cluster.BootstrapServers, topic, 300);

        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry.Url });
        var registered = await client.GetLatestSchemaAsync(topic + "-value");
        var deserializer = new AvroDeserializer<GenericRecord>(client);
        Assert.Equal(300, messages.Count);
        foreach (var m in messages)
        {
            Assert.Equal(0, m.Message.Value[0]);
            Assert.Equal(registered.Id, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(m.Message.Value.AsSpan(1, 4)));
            var record = await deserializer.DeserializeAsync(m.Message.Value, false, new SerializationContext(MessageComponentType.Value, topic));
            Assert.True(Guid.TryParse((string)record["event_id"], out _));
            Assert.Contains((string)record["event_type"], CustomerEventSchema.EventTypes);
        }
    }

    [Fact]
    public async Task Format_confluent_without_a_registry_url_fails_with_a_clear_message()
    {
        var result = await RunCliAsync("events", "--count", "10", "--kafka", kafka.Cluster.BootstrapServers, "--topic", "t-" + Guid.NewGuid().ToString("N")[..8],
            "--format", "confluent");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--schema-registry-url", result.Error, StringComparison.Ordinal);
    }
}
