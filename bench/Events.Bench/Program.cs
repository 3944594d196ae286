// Pipeline C benchmark: throughput vs a bare consume loop, freshness at 1,000 events/s, compaction and query time.
// Run: dotnet run -c Release --project bench/Events.Bench [-- --events 2000000] [--throughput-only] [--repeat 3] [--set Events:Key=value ...]
// --pipeline-only: only the sustained pipeline run(s), no bare loop (for profiling the pipeline alone).
// --scale-out: one pipeline instance vs two in one consumer group over the same partitions (issue #16).
using System.Diagnostics;
using System.Globalization;
using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;
using CustomerData.Contracts;
using CustomerData.Lake;
using CustomerData.Pipelines.Events;
using CustomerData.TestServers;
using DuckDB.NET.Data;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

if (args.Length > 0 && args[0] == "--parquet-only")
{
    var sample = Enumerable.Range(0, 100_000).Select(i => new LakeEvent(Guid.NewGuid().ToString(), i % 5000, "LIKE", i % 7 == 0 ? null : i % 500,
        DateTime.UtcNow.AddTicks(-i * 10), DateTime.UtcNow)).ToList();
    for (var run = 0; run < 5; run++)
    {
        var t = Stopwatch.StartNew();
        var bytes = await EventParquet.WriteEventsAsync(sample, sample.Count);
        Console.WriteLine($"write 100k: {t.ElapsedMilliseconds} ms, {bytes.Length:N0} bytes");
    }
    return;
}
var totalEvents = args.Length >= 2 && args[0] == "--events" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000_000;
var pipelineOnly = args.Contains("--pipeline-only");
var throughputOnly = pipelineOnly || args.Contains("--throughput-only");
// --set Events:Key=value (repeatable): pipeline settings for every run, to compare settings in one command.
var overrides = args.Select((a, i) => (a, i)).Where(x => x.a == "--set" && x.i + 1 < args.Length)
    .Select(x => args[x.i + 1].Split('=', 2)).ToDictionary(kv => kv[0], kv => (string?)kv[1]);
Overrides = overrides;
const int Customers = 5_000;
var rows = new List<(string Measure, string Value, string Goal)>();
var work = Path.Combine(Path.GetTempPath(), $"cdp-events-bench-{Guid.NewGuid():N}");
Directory.CreateDirectory(work);
// Every exit (the --throughput-only and --pipeline-only returns, and a run that fails) removes the lakes it wrote.
void RemoveWork()
{
    try { Directory.Delete(work, recursive: true); } catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
}
AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveWork();
AppDomain.CurrentDomain.UnhandledException += (_, _) => RemoveWork(); // a stalled run throws: ProcessExit does not run then

using var cluster = KafkaMockCluster.Start();
var bootstrap = cluster.BootstrapServers;
// The mock keeps only about 5 MB per partition (older messages are dropped, the low watermark moves), so a
// data set is spread over several 4-partition topics and consumers subscribe to them with a regex.
// Every reader of a data set reads the very same messages.
var today = DateOnly.FromDateTime(DateTime.UtcNow);
var firstDay = today.AddDays(-33);
var sw = Stopwatch.StartNew();

// 1. Throughput data: 2M events of yesterday as a sustained stream at the goal's rate writes them: record time
// advances 150,000 events/s, so batches close on record time (2 s) all along while the backlog is consumed.
// 16 topics per 2,000,000 events: the mock keeps about 5 MB a partition.
var (topicNames, partitionsPerTopic) = ProduceDataSet(cluster, "bench-events", 16 * (int)Math.Ceiling(totalEvents / 2_000_000.0), totalEvents, Customers,
    today.AddDays(-1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), TimeSpan.FromDays(1), recordsPerSecond: 150_000);
var topic = "^bench-events-.*";
var partitions = topicNames.Length * partitionsPerTopic;
Console.Error.WriteLine($"produced {totalEvents:N0} events into {partitions} partitions in {sw.Elapsed.TotalSeconds:F1} s");

// --scale-out: the same data read by one pipeline instance, then by two in one consumer group (as two pods), each
// writing the same lake: the partitions are split between them (issue #16, "scaling out").
if (args.Contains("--scale-out"))
{
    var tps = AllPartitions(topicNames, partitionsPerTopic);
    var one = await RunGroupAsync(bootstrap, topic, "bench-scale-1", Path.Combine(work, "lake-scale-1"), tps, 1);
    var two = await RunGroupAsync(bootstrap, topic, "bench-scale-2", Path.Combine(work, "lake-scale-2"), tps, 2);
    rows.Add(($"1 pipeline instance, {partitions} partitions (group join included)", $"{one:N0} events/s", ""));
    rows.Add(($"2 pipeline instances in one consumer group, same partitions", $"{two:N0} events/s ({two / one:F2}× one instance)", "(2 cores in all)"));
    PrintTable(totalEvents, partitions, rows);
    return;
}

// 2. Baseline: a bare consume-and-discard loop over the same topic, then 3. the pipeline with default settings
// into a local lake; alternated --repeat times (default 3), best of each, because the machine's speed drifts.
var repeat = Math.Max(1, args.Select((a, i) => (a, i)).Where(x => x.a == "--repeat" && x.i + 1 < args.Length).Select(x => int.Parse(args[x.i + 1], CultureInfo.InvariantCulture)).DefaultIfEmpty(3).First());
double bareRate = 0, defaultsBareRate = 0, pipelineRate = 0, bareCpu = double.MaxValue, pipelineCpu = double.MaxValue;
for (var r = 0; r < repeat; r++)
{
    if (!pipelineOnly)
    {
        bareRate = Math.Max(bareRate, BareConsume(bootstrap, AllPartitions(topicNames, partitionsPerTopic), totalEvents, PipelineFetchQueueBackoffMs()));
        bareCpu = Math.Min(bareCpu, LastCpuMicrosPerEvent);
        // The loop anyone would write first: librdkafka's defaults (fetch.queue.backoff.ms 1 s), for comparison.
        defaultsBareRate = Math.Max(defaultsBareRate, BareConsume(bootstrap, AllPartitions(topicNames, partitionsPerTopic), totalEvents, fetchQueueBackoffMs: null));
    }
    pipelineRate = Math.Max(pipelineRate, await RunPipelineAsync(bootstrap, topic, $"bench-default-{r}", Path.Combine(work, $"lake-default-{r}"),
        AllPartitions(topicNames, partitionsPerTopic), new Dictionary<string, string?>()));
    pipelineCpu = Math.Min(pipelineCpu, LastCpuMicrosPerEvent);
}
if (!pipelineOnly)
{
    rows.Add(($"bare consume-and-discard loop, the pipeline's fetch setting (best of {repeat})", $"{bareRate:N0} events/s", ""));
    rows.Add(($"bare consume-and-discard loop, librdkafka defaults (best of {repeat})", $"{defaultsBareRate:N0} events/s", ""));
}
rows.Add(($"pipeline, default settings (Kafka mock → local lake; best of {repeat})", $"{pipelineRate:N0} events/s", "≥ 150,000 events/s"));
if (!pipelineOnly)
{
    rows.Add(("pipeline / bare loop with the pipeline's fetch setting", $"{pipelineRate / bareRate:P0}", "≥ 50 %"));
    rows.Add(("pipeline / bare loop with librdkafka defaults", $"{pipelineRate / defaultsBareRate:P0}", "(for comparison)"));
}
// CPU time per event (process total, so the in-process mock broker is in both): steadier than rates on a busy machine.
// The pipeline's window also holds its host start and group join, so it is the higher bound.
rows.Add(($"CPU per event, bare loop (pipeline's fetch setting) / pipeline (least of {repeat})", $"{(pipelineOnly ? "-" : $"{bareCpu:F2} µs")} / {pipelineCpu:F2} µs", ""));
if (pipelineOnly)
{
    PrintTable(totalEvents, partitions, rows);
    return;
}

// A burst: the same volume with record time at 1,000,000 events/s. Every one of the 64 partitions holds only ~31,000
// events (the mock's retention) and spans 2 s of record time, so no batch closes before the end of the data and
// writing cannot overlap consuming: the worst case for the pipeline.
var (burstTopics, burstPartitionsPerTopic) = ProduceDataSet(cluster, "bench-burst", 16, totalEvents, Customers,
    today.AddDays(-1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), TimeSpan.FromDays(1), recordsPerSecond: 1_000_000);
var burstBare = BareConsume(bootstrap, AllPartitions(burstTopics, burstPartitionsPerTopic), totalEvents, PipelineFetchQueueBackoffMs());
var burstRate = await RunPipelineAsync(bootstrap, "^bench-burst-.*", "bench-burst", Path.Combine(work, "lake-burst"), AllPartitions(burstTopics, burstPartitionsPerTopic),
    new Dictionary<string, string?>());
rows.Add(("burst (record time 1,000,000 events/s): bare loop", $"{burstBare:N0} events/s", ""));
rows.Add(("burst: pipeline, default settings", $"{burstRate:N0} events/s ({burstRate / burstBare:P0} of the bare loop)", ""));
// The same sustained stream in the Confluent wire format, writer schema from the schema registry stand-in (the
// contract itself, registered by Confluent's client: the decoder's fast path after one schema fetch).
{
    await using var registry = await CustomerData.SchemaRegistry.DevServer.SchemaRegistryStandIn.StartAsync();
    using var client = new Confluent.SchemaRegistry.CachedSchemaRegistryClient(new Confluent.SchemaRegistry.SchemaRegistryConfig { Url = registry.Url });
    var schemaId = await client.RegisterSchemaAsync("bench-confluent-value", new Confluent.SchemaRegistry.Schema(CustomerEventSchema.Json, Confluent.SchemaRegistry.SchemaType.Avro));
    var framing = new byte[5];
    System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(framing.AsSpan(1), schemaId);
    var (confluentTopics, confluentPerTopic) = ProduceDataSet(cluster, "bench-confluent", 18, totalEvents, Customers,
        today.AddDays(-1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), TimeSpan.FromDays(1), recordsPerSecond: 150_000, framing);
    var confluentRate = 0.0;
    for (var r = 0; r < repeat; r++)
    {
        confluentRate = Math.Max(confluentRate, await RunPipelineAsync(bootstrap, "^bench-confluent-.*", $"bench-confluent-{r}", Path.Combine(work, $"lake-confluent-{r}"),
            AllPartitions(confluentTopics, confluentPerTopic), new Dictionary<string, string?> { ["Events:SchemaRegistry:Url"] = registry.Url }));
    }
    rows.Add(($"pipeline, Confluent wire format + schema registry (best of {repeat})", $"{confluentRate:N0} events/s ({confluentRate / pipelineRate:P0} of bare Avro)", ""));
}
if (throughputOnly)
{
    PrintTable(totalEvents, partitions, rows);
    return;
}

// 4. Freshness at 1,000 events/s with default settings.
var (p50, p95, measured) = await FreshnessAsync(bootstrap, Path.Combine(work, "lake-fresh"));
rows.Add(($"freshness p50 (1,000 events/s, {measured:N0} events)", $"{p50:F2} s", ""));
rows.Add(("freshness p95", $"{p95:F2} s", "≤ 5 s"));

// 5. Small files (a slow stream's batches of 500) → compaction; one customer over 30 days before and after.
// 30 closed days of 20,000 events, ingested the way a slow stream writes them (batches of 250 records).
const int QueryEvents = 600_000;
var (queryTopics, queryPartitionsPerTopic) = ProduceDataSet(cluster, "bench-query", 8, QueryEvents, Customers,
    firstDay.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), TimeSpan.FromDays(30), recordsPerSecond: 1_000_000);
var lake2 = Path.Combine(work, "lake-small-files");
await RunPipelineAsync(bootstrap, "^bench-query-.*", "bench-small", lake2, AllPartitions(queryTopics, queryPartitionsPerTopic), new Dictionary<string, string?> { ["Events:MaxBatchRecords"] = "250" });
var storage = new LocalFolderLakeStorage(lake2);
var reader = new EventsLakeReader(storage);
var beforeDays = await reader.ReadDaysAsync(firstDay, today, default);
var closedDays = beforeDays.Where(d => d.Day < today.AddDays(-1)).ToList();
rows.Add(("files per closed day before compaction (avg / max)", $"{closedDays.Average(d => d.Readable.Count):F0} / {closedDays.Max(d => d.Readable.Count)}", ""));
var customerId = 1_166 % Customers;
var (beforeMs, beforeRows) = await QueryCustomerAsync(reader, customerId, firstDay, firstDay.AddDays(29));

var options = new EventsOptions { Topic = queryTopics[0], GroupId = "bench-small" };
var compactor = new EventsCompactor(storage, options, TimeProvider.System, NullLogger<EventsCompactor>.Instance);
using (var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-small" }).Build())
{
    sw.Restart();
    var results = await compactor.RunPassAsync(b => EventsCompactionService.CommittedOffsets(offsets, b), default);
    rows.Add(("compaction of all closed days (one pass)", $"{results.Count} days, {results.Sum(r => r.Rows):N0} rows in {sw.Elapsed.TotalSeconds:F1} s", ""));
}
var afterDays = (await reader.ReadDaysAsync(firstDay, today, default)).Where(d => d.Day < today.AddDays(-1)).ToList();
rows.Add(("files per closed day after compaction (avg / max)", $"{afterDays.Average(d => d.Readable.Count):F1} / {afterDays.Max(d => d.Readable.Count)}", "1"));
var (afterMs, afterRows) = await QueryCustomerAsync(reader, customerId, firstDay, firstDay.AddDays(29));
if (afterRows != beforeRows) throw new InvalidOperationException($"query rows differ after compaction: {beforeRows} vs {afterRows}");
rows.Add(($"one customer, 30 days, before compaction ({beforeRows} rows)", $"{beforeMs:F1} ms", ""));
rows.Add(("one customer, 30 days, after compaction", $"{afterMs:F1} ms", $"{beforeMs / afterMs:F1}× faster"));

PrintTable(totalEvents, partitions, rows);
return;

static void PrintTable(int totalEvents, int partitions, List<(string Measure, string Value, string Goal)> rows)
{
    Console.WriteLine();
    Console.WriteLine($"Pipeline C benchmark: {totalEvents:N0} events, {partitions} partitions, {Environment.ProcessorCount} cores");
    Console.WriteLine();
    Console.WriteLine("| measure | result | goal |");
    Console.WriteLine("|---|---|---|");
    foreach (var (measure, value, goal) in rows) Console.WriteLine($"| {measure} | {value} | {goal} |");
}

static (string[] Topics, int PartitionsPerTopic) ProduceDataSet(KafkaMockCluster cluster, string prefix, int topics, int count, int customers,
    DateTime eventStart, TimeSpan eventSpan, int recordsPerSecond, byte[]? framing = null)
{
    var names = Enumerable.Range(0, topics).Select(t => $"{prefix}-{t:D2}").ToArray();
    var perTopic = names.Select(cluster.EnsureTopic).ToArray()[0];
    using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
    {
        BootstrapServers = cluster.BootstrapServers, LingerMs = 20, BatchNumMessages = 10_000, QueueBufferingMaxMessages = 500_000,
    }).Build();
    var writer = new GenericDatumWriter<GenericRecord>(CustomerEventSchema.Schema);
    var random = new Random(42);
    using var buffer = new MemoryStream();
    var recordStart = DateTime.UtcNow.AddHours(-1);
    for (var i = 0; i < count; i++)
    {
        var customer = 1 + random.Next(customers);
        var record = new GenericRecord(CustomerEventSchema.Schema);
        record.Add("event_id", Guid.NewGuid().ToString());
        record.Add("customer_id", customer);
        record.Add("event_type", CustomerEventSchema.EventTypes[random.Next(3)]);
        record.Add("product_id", random.Next(10) == 0 ? null : random.Next(1, 500));
        record.Add("event_timestamp", eventStart.AddTicks(eventSpan.Ticks / count * i).ToString("O", CultureInfo.InvariantCulture));
        buffer.SetLength(0);
        if (framing is not null) buffer.Write(framing); // Confluent wire format: magic byte 0 and the schema id
        writer.Write(record, new BinaryEncoder(buffer));
        var message = new Message<byte[], byte[]>
        {
            Key = System.Text.Encoding.UTF8.GetBytes(customer.ToString(CultureInfo.InvariantCulture)),
            Value = buffer.ToArray(),
            // The Kafka record time of a stream at recordsPerSecond (the batches' record-time span follows it).
            Timestamp = new Timestamp(recordStart.AddTicks(TimeSpan.TicksPerSecond / recordsPerSecond * i), TimestampType.CreateTime),
        };
        while (true)
        {
            try
            {
                producer.Produce(names[i % topics], message);
                break;
            }
            catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }
    producer.Flush(TimeSpan.FromMinutes(5));
    using var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "bench-probe" }).Build();
    var marks = AllPartitions(names, perTopic).Select(tp => probe.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10))).ToList();
    if (marks.Any(m => m.Low.Value > 0) || marks.Sum(m => m.High.Value) != count)
    {
        throw new InvalidOperationException("the mock cluster did not keep every event (low watermark > 0): use more topics");
    }
    return (names, perTopic);
}

static List<TopicPartition> AllPartitions(string[] topics, int perTopic) =>
    [.. topics.SelectMany(t => Enumerable.Range(0, perTopic).Select(p => new TopicPartition(t, p)))];

// The pipeline's fetch.queue.backoff.ms: its default, or what --set Kafka:kafka:Config:fetch.queue.backoff.ms gave it.
static int PipelineFetchQueueBackoffMs() =>
    Overrides.TryGetValue("Kafka:kafka:Config:fetch.queue.backoff.ms", out var backoff) && backoff is not null
        ? int.Parse(backoff, CultureInfo.InvariantCulture) : EventsConsumerFactory.DefaultFetchQueueBackoffMs;

/// <summary>Consume-and-discard over the partitions; <paramref name="fetchQueueBackoffMs"/> null = librdkafka's default.</summary>
static double BareConsume(string bootstrap, List<TopicPartition> tps, int expected, int? fetchQueueBackoffMs)
{
    using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
    {
        BootstrapServers = bootstrap, GroupId = "bench-bare", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        FetchQueueBackoffMs = fetchQueueBackoffMs,
    }).Build();
    consumer.Assign(tps.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
    var count = 0;
    long bytes = 0;
    var started = 0L;
    var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
    while (count < expected)
    {
        var result = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"bare loop stalled at {count}: positions {string.Join(", ", consumer.Assignment.Select(tp => consumer.Position(tp)))}");
        if (count == 0) started = Stopwatch.GetTimestamp();
        bytes += result.Message.Value?.Length ?? 0;
        count++;
    }
    var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
    LastCpuMicrosPerEvent = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalMicroseconds / count;
    consumer.Close();
    GC.KeepAlive(bytes);
    return count / elapsed;
}

static async Task<double> RunPipelineAsync(string bootstrap, string topic, string group, string lakeRoot, List<TopicPartition> tps, Dictionary<string, string?> settings)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.ClearProviders();
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["ConnectionStrings:kafka"] = bootstrap, ["Lake:Root"] = lakeRoot, ["Events:Topic"] = topic, ["Events:GroupId"] = group,
        ["Events:Compaction:Enabled"] = "false",
    });
    builder.Configuration.AddInMemoryCollection(settings);
    builder.Configuration.AddInMemoryCollection(Overrides);
    builder.AddEventsPipeline();
    using var host = builder.Build();
    var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
    await host.StartAsync();
    var state = host.Services.GetRequiredService<IngestionState>();
    using var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = group }).Build();
    var highs = tps.ToDictionary(tp => tp, tp => offsets.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);
    var total = highs.Values.Sum();
    var deadline = DateTime.UtcNow.AddMinutes(10);
    // Done when the pipeline has committed as many messages as the topics hold (its own counter, read in memory, so
    // the harness puts no load on the broker while it measures); then the group's committed offsets must agree.
    while (state.CommittedMessages < total)
    {
        if (DateTime.UtcNow > deadline) throw new TimeoutException("the pipeline did not finish within 10 minutes");
        await Task.Delay(5);
    }
    var elapsed = Stopwatch.GetElapsedTime(state.FirstRecordTimestamp).TotalSeconds;
    var committed = offsets.Committed(tps, TimeSpan.FromSeconds(10));
    if (state.CommittedMessages != total || !committed.All(c => c.Offset.Value == highs[c.TopicPartition]))
    {
        throw new InvalidOperationException($"the pipeline committed {state.CommittedMessages:N0} messages of {total:N0}, offsets {string.Join(", ", committed.Select(c => c.Offset.Value))}");
    }
    LastCpuMicrosPerEvent = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalMicroseconds / total;
    await host.StopAsync();
    return total / elapsed;
}

/// <summary>Events/s of <paramref name="instances"/> pipeline hosts in one group until the group committed every message (from the first record any took).</summary>
static async Task<double> RunGroupAsync(string bootstrap, string topic, string group, string lakeRoot, List<TopicPartition> tps, int instances)
{
    var hosts = new List<IHost>();
    for (var i = 0; i < instances; i++)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = bootstrap, ["Lake:Root"] = lakeRoot, ["Events:Topic"] = topic, ["Events:GroupId"] = group,
            ["Events:Compaction:Enabled"] = "false",
        });
        builder.Configuration.AddInMemoryCollection(Overrides);
        builder.AddEventsPipeline();
        hosts.Add(builder.Build());
    }
    await Task.WhenAll(hosts.Select(h => h.StartAsync()));
    using var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = group }).Build();
    var highs = tps.ToDictionary(tp => tp, tp => offsets.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);
    var deadline = DateTime.UtcNow.AddMinutes(10);
    while (!offsets.Committed(tps, TimeSpan.FromSeconds(10)).All(c => c.Offset.Value == highs[c.TopicPartition]))
    {
        if (DateTime.UtcNow > deadline) throw new TimeoutException("the group did not finish within 10 minutes");
        await Task.Delay(100);
    }
    var first = hosts.Select(h => h.Services.GetRequiredService<IngestionState>().FirstRecordTimestamp).Where(t => t > 0).Min();
    var elapsed = Stopwatch.GetElapsedTime(first).TotalSeconds;
    foreach (var host in hosts)
    {
        await host.StopAsync();
        host.Dispose();
    }
    return highs.Values.Sum() / elapsed;
}

static async Task<(double P50, double P95, int Count)> FreshnessAsync(string bootstrap, string lakeRoot)
{
    var topic = "bench-freshness";
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.ClearProviders();
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["ConnectionStrings:kafka"] = bootstrap, ["Lake:Root"] = lakeRoot, ["Events:Topic"] = topic, ["Events:GroupId"] = "bench-fresh",
    });
    builder.AddEventsPipeline();
    using var host = builder.Build();
    using (var warmup = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = bootstrap }).Build())
    {
        await warmup.ProduceAsync(topic, new Message<byte[], byte[]> { Key = "1"u8.ToArray(), Value = [] }); // creates the topic (a malformed message)
    }
    await host.StartAsync();
    await Task.Delay(TimeSpan.FromSeconds(6)); // the group join

    var storage = new LocalFolderLakeStorage(lakeRoot);
    var produced = new Dictionary<string, long>();
    var seenFiles = new HashSet<string>();
    var freshness = new List<double>();
    using var stop = new CancellationTokenSource();
    var poller = Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested || freshness.Count < produced.Count)
        {
            foreach (var o in await storage.ListAsync(LakeLayout.EventsTable + "/"))
            {
                // Data files only: the lake also holds the identity marker and compaction manifests (JSON).
                if (!o.Key.EndsWith(".parquet", StringComparison.Ordinal) || !seenFiles.Add(o.Key)) continue;
                var now = Stopwatch.GetTimestamp();
                foreach (var e in await EventParquet.ReadEventsAsync((await storage.ReadAsync(o.Key))!))
                {
                    lock (produced)
                    {
                        if (produced.TryGetValue(e.EventId, out var sentAt)) freshness.Add(Stopwatch.GetElapsedTime(sentAt, now).TotalSeconds);
                    }
                }
            }
            if (stop.IsCancellationRequested && DateTime.UtcNow > stopDeadline) break;
            await Task.Delay(50);
        }
    });
    using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 1 }).Build())
    {
        var paced = Stopwatch.StartNew();
        for (var i = 0; i < 30_000; i++)
        {
            // 1,000 events/s: wait for each event's slot.
            var due = TimeSpan.FromMilliseconds(i);
            if (paced.Elapsed < due) await Task.Delay(due - paced.Elapsed);
            var id = Guid.NewGuid().ToString();
            var value = Encode(id, 1 + i % 5_000, DateTime.UtcNow);
            lock (produced) produced[id] = Stopwatch.GetTimestamp();
            producer.Produce(topic, new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes((1 + i % 5_000).ToString(CultureInfo.InvariantCulture)), Value = value });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }
    stopDeadline = DateTime.UtcNow.AddSeconds(30);
    await stop.CancelAsync();
    await poller;
    await host.StopAsync();
    freshness.Sort();
    return (freshness[freshness.Count / 2], freshness[(int)(freshness.Count * 0.95)], freshness.Count);
}

static byte[] Encode(string id, int customer, DateTime time)
{
    var record = new GenericRecord(CustomerEventSchema.Schema);
    record.Add("event_id", id);
    record.Add("customer_id", customer);
    record.Add("event_type", "LIKE");
    record.Add("product_id", 3);
    record.Add("event_timestamp", time.ToString("O", CultureInfo.InvariantCulture));
    using var stream = new MemoryStream();
    new GenericDatumWriter<GenericRecord>(CustomerEventSchema.Schema).Write(record, new BinaryEncoder(stream));
    return stream.ToArray();
}

static async Task<(double Ms, long Rows)> QueryCustomerAsync(EventsLakeReader reader, int customerId, DateOnly from, DateOnly to)
{
    // The /events query: the day range's exact file list from the reader, one customer, oldest first. Median of 5 after a warm-up.
    var times = new List<double>();
    long count = 0;
    for (var run = 0; run < 6; run++)
    {
        var sw = Stopwatch.StartNew();
        var files = await reader.ListReadableUrisAsync(from, to);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT event_id, customer_id, event_type, product_id, event_timestamp, ingestion_timestamp, event_date
            FROM read_parquet([{string.Join(",", files.Select(f => "'" + f + "'"))}], hive_partitioning = true)
            WHERE customer_id = {customerId}
            ORDER BY event_timestamp, event_id
            """;
        count = 0;
        using (var result = await command.ExecuteReaderAsync())
        {
            while (await result.ReadAsync()) count++;
        }
        if (run > 0) times.Add(sw.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    return (times[times.Count / 2], count);
}

static partial class Program
{
    private static DateTime stopDeadline = DateTime.MaxValue;
    private static Dictionary<string, string?> Overrides = [];
    /// <summary>The process's CPU time per event of the last BareConsume or RunPipelineAsync (the in-process mock broker's share included).</summary>
    private static double LastCpuMicrosPerEvent;
}
