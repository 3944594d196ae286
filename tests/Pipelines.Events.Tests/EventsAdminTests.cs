using System.Net;
using Avro;
using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using CustomerData.Contracts;
using CustomerData.Lake;
using CustomerData.Pipelines.Events.Replay;
using CustomerData.SchemaRegistry.DevServer;
using CustomerData.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>
/// Issue 17: the operator commands of Pipeline C on the real pipeline (a web host with its admin routes, Kestrel, the
/// Kafka mock cluster, a lake folder, the schema registry stand-in): the replay of the malformed area and the compaction of a day.
/// </summary>
public sealed class EventsAdminTests(KafkaFixture kafka)
{
    private static readonly DateTime EventTime = new(2025, 11, 20, 10, 0, 0, DateTimeKind.Utc);
    private static readonly DateOnly EventDay = DateOnly.FromDateTime(EventTime);
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);

    /// <summary>A producer's new schema version (a field added with a default, fields reordered), registered only after ingestion.</summary>
    private static readonly RecordSchema V2 = (RecordSchema)Avro.Schema.Parse("""
        {"type":"record","name":"CustomerEvent","namespace":"com.customerdata.events","fields":[
          {"name":"event_id","type":"string"},
          {"name":"channel","type":"string","default":"web"},
          {"name":"customer_id","type":"int"},
          {"name":"event_type","type":"string"},
          {"name":"event_timestamp","type":"string"}]}
        """);

    [Fact]
    public async Task Quarantined_events_of_a_schema_registered_later_are_replayed_once_a_second_replay_changes_nothing_and_the_rest_keep_their_reason()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var registry = await SchemaRegistryStandIn.StartAsync();
        using var folder = new TempLake();
        var lake = new LocalFolderLakeStorage(folder.Root);
        var topic = $"events-admin-{Guid.NewGuid():N}";
        var partitions = kafka.Cluster.EnsureTopic(topic);
        var valid = new List<string>();
        var laterSchema = new List<string>();
        using (var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers))
        {
            for (var i = 0; i < 60; i++)
            {
                var id = $"valid-{i:D3}-{Guid.NewGuid():N}";
                valid.Add(id);
                await producer.ProduceAsync(topic, TestEvents.Message(id, 1 + i % 20, EventTime.AddSeconds(i)), ct);
                if (i % 5 == 0)
                {
                    // Framed with schema id 1, which the empty registry does not know yet: unknown_schema_id at ingestion.
                    var later = $"later-{i:D3}-{Guid.NewGuid():N}";
                    laterSchema.Add(later);
                    await producer.ProduceAsync(topic, new Message<byte[]?, byte[]> { Key = "7"u8.ToArray(), Value = FramedV2(1, later, 7, EventTime.AddSeconds(i)) }, ct);
                }
                if (i % 15 == 0) await producer.ProduceAsync(topic, TestEvents.Message($"bad-{i}", 3, EventTime, MalformedKind.NotAvro), ct);
                if (i % 20 == 0) await producer.ProduceAsync(topic, TestEvents.Message($"keyless-{i}", 4, EventTime, MalformedKind.MissingKey), ct);
            }
        }

        await using var host = await AdminPipelineHost.StartAsync(kafka.Cluster.BootstrapServers, folder.Root, topic, registry.Url);
        await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, "g-" + topic, partitions, s_bound);
        var quarantined = await Lake.ReadAllMalformedAsync(lake);
        Assert.Equal((12, 4, 3), (Count(quarantined, MalformedReasons.UnknownSchemaId), Count(quarantined, MalformedReasons.Undecodable), Count(quarantined, MalformedReasons.MissingKey)));
        Assert.Equal(valid.Order(StringComparer.Ordinal), (await ReadableAsync(lake)).Select(e => e.EventId).Order(StringComparer.Ordinal));

        // Without the scope nothing runs.
        using var anonymous = new HttpClient { BaseAddress = host.Address };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/admin/" + EventsAdminEndpoints.ReplayPath, null, ct)).StatusCode);
        using var reader = new HttpClient { BaseAddress = host.Address };
        reader.DefaultRequestHeaders.Authorization = new("Bearer", OpsTestTokens.Create("analytics:read"));
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync("/admin/" + EventsAdminEndpoints.CompactPath, null, ct)).StatusCode);

        // The schema fix: the producer's schema gets registered (the id the messages carry).
        using (var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry.Url }))
        {
            Assert.Equal(1, await client.RegisterSchemaAsync(topic + "-value", new Confluent.SchemaRegistry.Schema(V2.ToString(), SchemaType.Avro)));
        }
        using var operatorClient = OpsTestTokens.Operator(host.Address);
        var first = await RunAsync(operatorClient, EventsAdminEndpoints.ReplayPath);
        Assert.StartsWith("12 records replayed into ", first, StringComparison.Ordinal);
        Assert.Contains("still quarantined: 3 missing_key, 4 undecodable", first, StringComparison.Ordinal);
        var events = await ReadableAsync(lake);
        Assert.Equal(valid.Concat(laterSchema).Order(StringComparer.Ordinal), events.Select(e => e.EventId).Order(StringComparer.Ordinal));
        var byId = quarantined.Where(q => q.Reason == MalformedReasons.UnknownSchemaId).ToDictionary(q => q.Offset);
        Assert.All(events.Where(e => e.EventId.StartsWith("later-", StringComparison.Ordinal)), e =>
        {
            Assert.Equal((7, "VIEW_PRODUCT", (int?)null), (e.CustomerId, e.EventType, e.ProductId));
            Assert.Contains(byId.Values, q => q.IngestionTimestamp == e.IngestionTimestamp); // the original ingestion time, kept
        });
        Assert.Equal(quarantined.Count, (await Lake.ReadAllMalformedAsync(lake)).Count); // the quarantine keeps its records as evidence

        // A second replay finds everything in the ledger: the lake stays byte for byte as it was.
        var before = await SnapshotAsync(lake);
        var second = await RunAsync(operatorClient, EventsAdminEndpoints.ReplayPath);
        Assert.StartsWith("0 records replayed into 0 files, 12 replayed before", second, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(lake));

        // A crash after the replay files but before their ledger entries: the next replay writes the same files again.
        foreach (var entry in await lake.ListAsync(ReplayLedger.Folder, ct)) await lake.DeleteAsync(entry.Key, ct);
        Assert.StartsWith("12 records replayed", await RunAsync(operatorClient, EventsAdminEndpoints.ReplayPath), StringComparison.Ordinal);
        Assert.Equal(before.Keys, (await SnapshotAsync(lake)).Keys);
        Assert.Equal(before.Where(kv => kv.Key.StartsWith("events/", StringComparison.Ordinal)), (await SnapshotAsync(lake)).Where(kv => kv.Key.StartsWith("events/", StringComparison.Ordinal)));

        // Compacting the day now leaves one file with every event once, and the ledger still stops a replay.
        Assert.True((await new EventsLakeReader(lake).ReadDayAsync(EventDay, ct)).Readable.Count > 1);
        var compacted = await RunAsync(operatorClient, $"{EventsAdminEndpoints.CompactPath}?day={LakeLayout.Day(EventDay)}", EventsAdminEndpoints.CompactPath);
        Assert.EndsWith("1 readable files now", compacted, StringComparison.Ordinal);
        Assert.Single((await new EventsLakeReader(lake).ReadDayAsync(EventDay, ct)).Readable);
        Assert.Equal(valid.Concat(laterSchema).Order(StringComparer.Ordinal), (await Lake.ReadAllEventsAsync(lake)).Select(e => e.Event.EventId).Order(StringComparer.Ordinal));
        Assert.StartsWith("0 records replayed", await RunAsync(operatorClient, EventsAdminEndpoints.ReplayPath), StringComparison.Ordinal);
        Assert.EndsWith("nothing to compact, 1 readable files",
            await RunAsync(operatorClient, $"{EventsAdminEndpoints.CompactPath}?day={LakeLayout.Day(EventDay)}", EventsAdminEndpoints.CompactPath), StringComparison.Ordinal);
        var badDay = await operatorClient.PostAsync($"/admin/{EventsAdminEndpoints.CompactPath}?day=20-11-2025", null, ct);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_date_format"), (badDay.StatusCode, (await OpsTestTokens.EnvelopeAsync(badDay)).Message));
    }

    private static int Count(IEnumerable<MalformedEvent> records, string reason) => records.Count(r => r.Reason == reason);

    /// <summary>Starts the operation, waits for it, asserts it succeeded; returns its result line.</summary>
    private static async Task<string> RunAsync(HttpClient client, string request, string? statusPath = null)
    {
        var started = await client.PostAsync("/admin/" + request, null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var done = await OpsTestTokens.WaitForOperationAsync(client, statusPath ?? request, s_bound);
        Assert.True(done.GetProperty("state").GetString() == "succeeded", done.ToString());
        return done.GetProperty("result").GetString()!;
    }

    /// <summary>Every event a reader sees (following the manifests).</summary>
    private static async Task<List<LakeEvent>> ReadableAsync(ILakeStorage lake)
    {
        var result = new List<LakeEvent>();
        foreach (var key in await new EventsLakeReader(lake).ListReadableKeysAsync(null, null))
        {
            result.AddRange(await EventParquet.ReadEventsAsync((await lake.ReadAsync(key))!));
        }
        return result;
    }

    private static async Task<SortedDictionary<string, string>> SnapshotAsync(ILakeStorage lake)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var o in await lake.ListAsync(""))
        {
            if (o.Key.StartsWith(PartitionPosition.Folder, StringComparison.Ordinal)) continue; // rewritten by every batch
            result[o.Key] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData((await lake.ReadAsync(o.Key))!));
        }
        return result;
    }

    private static byte[] FramedV2(int schemaId, string eventId, int customerId, DateTime time)
    {
        var record = new GenericRecord(V2);
        record.Add("event_id", eventId);
        record.Add("channel", "app");
        record.Add("customer_id", customerId);
        record.Add("event_type", "VIEW_PRODUCT");
        record.Add("event_timestamp", TestEvents.Iso(time));
        using var stream = new MemoryStream();
        stream.Write([0, (byte)(schemaId >> 24), (byte)(schemaId >> 16), (byte)(schemaId >> 8), (byte)schemaId]);
        new GenericDatumWriter<GenericRecord>(V2).Write(record, new BinaryEncoder(stream));
        return stream.ToArray();
    }
}

/// <summary>Pipeline C as the service runs it (web host, Kestrel on a free port) with its admin routes and the test token settings.</summary>
public sealed class AdminPipelineHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AdminPipelineHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<AdminPipelineHost> StartAsync(string bootstrap, string lakeRoot, string topic, string registryUrl)
    {
        // No config file watchers (the machine's inotify instances are few).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = bootstrap,
            ["Lake:Root"] = lakeRoot,
            ["Events:Topic"] = topic,
            ["Events:GroupId"] = "g-" + topic,
            ["Events:Compaction:Enabled"] = "false",
            ["Events:MaxBatchRecords"] = "10",
            ["Events:SchemaRegistry:Url"] = registryUrl,
        });
        builder.Configuration.AddInMemoryCollection(OpsTestTokens.Settings);
        builder.AddEventsPipeline().AddEventsAdmin();
        var app = builder.Build();
        app.MapEventsAdmin();
        await app.StartAsync();
        return new AdminPipelineHost(app, new Uri(app.Urls.First()));
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
