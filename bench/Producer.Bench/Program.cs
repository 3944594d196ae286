using System.Data;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using CustomerData.Contracts;
using CustomerData.Producer;
using CustomerData.Producer.Events;
using CustomerData.Producer.Seeding;
using CustomerData.TestServers;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

// Producer benchmark: ours vs a raw baseline on the same data, in one run, as ratios.
//   dotnet run -c Release --project bench/Producer.Bench [-- --transactions N --events N --with-insert --events-only]
var transactions = ArgValue("--transactions", 1_000_000);
var eventCount = (int)ArgValue("--events", 300_000);
var rows = new List<string[]>();

var onlyEvents = args.Contains("--events-only");
if (onlyEvents)
{
    var g = new EventGenerator(1, 5_000, 500, 0);
    var sw = Stopwatch.StartNew();
    for (var i = 0; i < eventCount; i++) g.Next();
    Console.WriteLine($"generate+encode only: {eventCount / sw.Elapsed.TotalSeconds:N0} events/s");
}
if (!onlyEvents)
await using (var mariaDb = await MariaDbServer.StartAsync())
{
    var plan = new SeedPlan(42, 5_000, 500, transactions, new DateOnly(2020, 1, 1), new DateOnly(2026, 1, 1));

    // Ours: the seeder as `seed` runs it (chunks, progress state, verification), one and two connections.
    var oursByParallelism = new Dictionary<int, TimeSpan>();
    foreach (var parallelism in new[] { 1, 2 })
    {
        var oursDb = await mariaDb.CreateDatabaseAsync("bench_seed");
        await SourceSchema.ApplyAsync(oursDb);
        var seeder = new Seeder(oursDb, NullLogger.Instance);
        var sw = Stopwatch.StartNew();
        await seeder.SeedAsync(plan, SeedLoadMethod.BulkCopy, 100_000, liveMode: false, CancellationToken.None, parallelism);
        oursByParallelism[parallelism] = sw.Elapsed;
    }
    TimeSpan? insert = null;
    if (args.Contains("--with-insert"))
    {
        // The fallback for servers with local_infile off (MySQL 8's default): multi-row INSERT IGNORE.
        var insertDb = await mariaDb.CreateDatabaseAsync("bench_insert");
        await SourceSchema.ApplyAsync(insertDb);
        var sw = Stopwatch.StartNew();
        await new Seeder(insertDb, NullLogger.Instance).SeedAsync(plan, SeedLoadMethod.Insert, 100_000, liveMode: false, CancellationToken.None, 1);
        insert = sw.Elapsed;
    }

    // Baseline: one raw MySqlBulkCopy per table of the same rows, generated beforehand (untimed).
    var rawDb = await mariaDb.CreateDatabaseAsync("bench_raw");
    await SourceSchema.ApplyAsync(rawDb);
    var generator = new SourceDataGenerator(plan);
    var tables = new[]
    {
        ToTable("customers", SeedRowReaders.Customers(generator.Customers())),
        ToTable("products", SeedRowReaders.Products(generator.Products)),
        ToTable("transactions", SeedRowReaders.Transactions(generator.Transactions(1, plan.Transactions))),
    };
    await using var connection = new MySqlConnection(new MySqlConnectionStringBuilder(rawDb) { AllowLoadLocalInfile = true }.ConnectionString);
    await connection.OpenAsync();
    await using (var tz = new MySqlCommand("SET time_zone = '+00:00'", connection)) await tz.ExecuteNonQueryAsync();
    var stopwatch = Stopwatch.StartNew();
    foreach (var table in tables)
    {
        var bulkCopy = new MySqlBulkCopy(connection) { DestinationTableName = table.TableName, BulkCopyTimeout = 0 };
        await bulkCopy.WriteToServerAsync(table);
    }
    var raw = stopwatch.Elapsed;
    var total = plan.Customers + plan.Products + plan.Transactions;
    foreach (var (parallelism, ours) in oursByParallelism)
    {
        rows.Add([$"seed {plan.Transactions:N0} transactions (+{plan.Customers:N0} customers, {plan.Products} products), MySqlBulkCopy, {parallelism} connection(s)",
            Seconds(ours), $"{total / ours.TotalSeconds:N0} rows/s", Seconds(raw), $"{total / raw.TotalSeconds:N0} rows/s",
            $"{raw.TotalSeconds / ours.TotalSeconds:P0}"]);
    }
    if (insert is { } i)
    {
        rows.Add([$"seed, same plan, multi-row INSERT fallback, 1 connection", Seconds(i), $"{total / i.TotalSeconds:N0} rows/s",
            Seconds(raw), $"{total / raw.TotalSeconds:N0} rows/s", $"{raw.TotalSeconds / i.TotalSeconds:P0}"]);
    }
}

using (var cluster = KafkaMockCluster.Start())
{
    var oursRounds = new List<(TimeSpan Wall, TimeSpan Cpu)>();
    var bareRounds = new List<(TimeSpan Wall, TimeSpan Cpu)>();
    // Warm up both paths, then take the median of five alternating rounds each (the machine is shared and noisy).
    RunOurs(cluster.BootstrapServers, "warmup-ours", 20_000);
    RunBare(cluster.BootstrapServers, "warmup-bare", 20_000);
    for (var round = 0; round < 5; round++)
    {
        // Alternate which goes first, so neither always inherits the other's leftovers (GC, broker log).
        var r = round;
        (TimeSpan Wall, TimeSpan Cpu) o, b;
        if (round % 2 == 0)
        {
            o = Measure(() => RunOurs(cluster.BootstrapServers, $"ours-{r}", eventCount));
            b = Measure(() => RunBare(cluster.BootstrapServers, $"bare-{r}", eventCount));
        }
        else
        {
            b = Measure(() => RunBare(cluster.BootstrapServers, $"bare-{r}", eventCount));
            o = Measure(() => RunOurs(cluster.BootstrapServers, $"ours-{r}", eventCount));
        }
        Console.WriteLine($"round {round}: ours {o.Wall.TotalSeconds:F2} s wall / {o.Cpu.TotalSeconds:F2} s CPU, bare {b.Wall.TotalSeconds:F2} s / {b.Cpu.TotalSeconds:F2} s");
        oursRounds.Add(o);
        bareRounds.Add(b);
    }
    var ours = (Wall: Median(oursRounds.Select(x => x.Wall)), Cpu: Median(oursRounds.Select(x => x.Cpu)));
    var bare = (Wall: Median(bareRounds.Select(x => x.Wall)), Cpu: Median(bareRounds.Select(x => x.Cpu)));
    rows.Add([$"events {eventCount:N0} to the Kafka mock cluster (idempotent, lz4, linger 20 ms), wall clock, median of 5",
        Seconds(ours.Wall), $"{eventCount / ours.Wall.TotalSeconds:N0} events/s", Seconds(bare.Wall), $"{eventCount / bare.Wall.TotalSeconds:N0} events/s",
        $"{bare.Wall.TotalSeconds / ours.Wall.TotalSeconds:P0}"]);
    rows.Add([$"same, process CPU time (all threads, broker included)",
        Seconds(ours.Cpu), $"{ours.Cpu.TotalMicroseconds / eventCount:F2} µs CPU/event", Seconds(bare.Cpu), $"{bare.Cpu.TotalMicroseconds / eventCount:F2} µs CPU/event",
        $"{bare.Cpu.TotalSeconds / ours.Cpu.TotalSeconds:P0}"]);
}

Console.WriteLine();
Console.WriteLine($"{Environment.ProcessorCount} cores; load average at the end: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
string[] header = ["benchmark", "ours", "ours rate", "raw baseline", "baseline rate", "ours / baseline speed"];
Console.WriteLine();
Console.WriteLine("| " + string.Join(" | ", header) + " |");
Console.WriteLine("|" + string.Concat(header.Select(_ => "---|")));
foreach (var row in rows) Console.WriteLine("| " + string.Join(" | ", row) + " |");
return 0;

// Ours: generation, Avro encoding, malformed mix (0 here), span + traceparent per batch, delivery accounting.
static TimeSpan RunOurs(string bootstrap, string topic, int count)
{
    using var producer = NewProducer(bootstrap);
    var sender = new EventSender(producer, topic, NullLogger.Instance);
    var generator = new EventGenerator(1, 5_000, 500, 0);
    var stopwatch = Stopwatch.StartNew();
    for (var sent = 0; sent < count; sent += 10_000) sender.SendBatch(generator, Math.Min(10_000, count - sent), CancellationToken.None);
    if (producer.Flush(TimeSpan.FromMinutes(2)) != 0 || sender.Failed != 0) throw new InvalidOperationException("ours: events not delivered");
    return stopwatch.Elapsed;
}

// Baseline: the same bytes (keys, values and a traceparent header) prepared beforehand, produced in a bare loop.
static TimeSpan RunBare(string bootstrap, string topic, int count)
{
    var generator = new EventGenerator(1, 5_000, 500, 0);
    var traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"u8.ToArray();
    var messages = new Message<string, byte[]>[count];
    for (var i = 0; i < count; i++)
    {
        var m = generator.Next();
        messages[i] = new Message<string, byte[]> { Key = m.Key!, Value = m.Value, Headers = new Headers { { "traceparent", traceparent } } };
    }
    using var producer = NewProducer(bootstrap);
    var stopwatch = Stopwatch.StartNew();
    foreach (var message in messages)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message);
                break;
            }
            catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                Thread.Sleep(5);
            }
        }
    }
    if (producer.Flush(TimeSpan.FromMinutes(2)) != 0) throw new InvalidOperationException("bare: events not delivered");
    return stopwatch.Elapsed;
}

static IProducer<string, byte[]> NewProducer(string bootstrap)
{
    var config = new ProducerConfig { BootstrapServers = bootstrap };
    EventSender.Configure(config);
    return new ProducerBuilder<string, byte[]>(config).Build();
}

static DataTable ToTable(string name, System.Data.Common.DbDataReader reader)
{
    var table = new DataTable(name);
    for (var i = 0; i < reader.FieldCount; i++) table.Columns.Add(reader.GetName(i), reader.GetFieldType(i));
    var values = new object[reader.FieldCount];
    while (reader.Read())
    {
        reader.GetValues(values);
        table.Rows.Add(values);
    }
    return table;
}

static (TimeSpan Wall, TimeSpan Cpu) Measure(Func<TimeSpan> run)
{
    var process = Process.GetCurrentProcess();
    process.Refresh();
    var cpuBefore = process.TotalProcessorTime;
    var wall = run();
    process.Refresh();
    return (wall, process.TotalProcessorTime - cpuBefore);
}

static TimeSpan Median(IEnumerable<TimeSpan> values)
{
    var sorted = values.Order().ToArray();
    return sorted[sorted.Length / 2];
}

static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture) + " s";

long ArgValue(string name, long fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
