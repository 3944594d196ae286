using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using CustomerData.AppHost.Tests;
using CustomerData.Contracts;
using MySqlConnector;

// Freshness as a user sees it (issue 16): the AppHost in local mode with its default settings and the live stream on;
// from a MySQL commit to the change in /customer and /summary, from a Kafka send to the event in /events.
// Usage: dotnet bench/Freshness/bin/Release/net10.0/Freshness.dll [--samples N] [--markdown FILE]
var samples = Arg("--samples") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : 30;
var markdownFile = Arg("--markdown");
var poll = TimeSpan.FromMilliseconds(50);
var giveUp = TimeSpan.FromSeconds(60);

var dataFolder = Path.Combine(Path.GetTempPath(), $"cdp-freshness-{Guid.NewGuid():N}");
var seed = new PlatformUnderTest.Seed(Customers: 500, Products: 50, Transactions: 20_000,
    HistoryStart: DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-60), TxnRate: 20, EventRate: 50, MalformedRate: 0.01);
Console.Error.WriteLine($"Starting the AppHost (local mode) in {dataFolder} ...");
var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
await using var platform = await PlatformUnderTest.StartAsync(dataFolder, seed, TimeSpan.FromMinutes(5), CancellationToken.None);
await WaitAsync(async () => await ScalarAsync(platform.MySql, "SELECT COUNT(*) FROM transactions") > seed.Transactions, TimeSpan.FromMinutes(3));
// A first answer from every path, so the first sample does not measure the stack's warm-up.
await WaitAsync(async () => (await platform.Api.GetAsync("/customer/1")).IsSuccessStatusCode, TimeSpan.FromMinutes(2));

var customerTimes = new List<double>();
var summaryTimes = new List<double>();
var eventTimes = new List<double>();
using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = platform.Kafka, LingerMs = 0 }).Build();
for (var i = 0; i < samples; i++)
{
    var customer = 1 + i * 7 % seed.Customers;
    var today = DateOnly.FromDateTime(DateTime.UtcNow);
    var transactionsBefore = await ProfileTransactionsAsync(platform, customer);
    var itemsBefore = await SummaryItemsAsync(platform, today, customer);

    // One committed transaction of this customer (qty 1, at a product's price), stamped now.
    await using (var connection = new MySqlConnection(platform.MySql))
    {
        await connection.OpenAsync();
        await using var insert = new MySqlCommand(
            "SET time_zone = '+00:00'; INSERT INTO transactions (customer_id, product_id, qty, amount, txn_timestamp) " +
            "SELECT @c, product_id, 1, price, UTC_TIMESTAMP(6) FROM products ORDER BY product_id LIMIT 1", connection);
        insert.Parameters.AddWithValue("@c", customer);
        await insert.ExecuteNonQueryAsync();
    }
    var committed = Stopwatch.StartNew();
    var sawCustomer = false;
    var sawSummary = false;
    while ((!sawCustomer || !sawSummary) && committed.Elapsed < giveUp)
    {
        if (!sawCustomer && await ProfileTransactionsAsync(platform, customer) > transactionsBefore) { customerTimes.Add(committed.Elapsed.TotalSeconds); sawCustomer = true; }
        if (!sawSummary && await SummaryItemsAsync(platform, today, customer) > itemsBefore) { summaryTimes.Add(committed.Elapsed.TotalSeconds); sawSummary = true; }
        await Task.Delay(poll);
    }
    if (!sawCustomer) customerTimes.Add(double.PositiveInfinity);
    if (!sawSummary) summaryTimes.Add(double.PositiveInfinity);

    var eventId = Guid.NewGuid().ToString();
    var value = Encode(eventId, customer);
    await producer.ProduceAsync(PlatformNames.EventsTopic, new Message<string, byte[]> { Key = customer.ToString(CultureInfo.InvariantCulture), Value = value });
    var sent = Stopwatch.StartNew();
    while (sent.Elapsed < giveUp && !(await EventIdsAsync(platform, customer, today)).Contains(eventId)) await Task.Delay(poll);
    eventTimes.Add(sent.Elapsed < giveUp ? sent.Elapsed.TotalSeconds : double.PositiveInfinity);
    Console.Error.WriteLine($"sample {i + 1}/{samples}: customer {customerTimes[^1]:F2} s, summary {summaryTimes[^1]:F2} s, events {eventTimes[^1]:F2} s");
}

var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"Freshness under the AppHost's local defaults ({samples} samples each, live stream on; load {load} at start, {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at end; {Environment.ProcessorCount} cores)");
report.AppendLine();
report.AppendLine("| path | p50 | p95 | max | goal p95 | met |");
report.AppendLine("|---|---|---|---|---|---|");
foreach (var (path, times) in new[] { ("MySQL commit → /customer", customerTimes), ("MySQL commit → /summary", summaryTimes), ("Kafka send → /events", eventTimes) })
{
    var p95 = Percentile(times, 0.95);
    report.AppendLine(CultureInfo.InvariantCulture, $"| {path} | {Percentile(times, 0.5):F2} s | {p95:F2} s | {times.Max():F2} s | ≤ 5 s | {(p95 <= 5 ? "yes" : "**no**")} |");
}
Console.WriteLine(report);
if (markdownFile is not null) await File.WriteAllTextAsync(markdownFile, report.ToString());
try { Directory.Delete(dataFolder, recursive: true); } catch (IOException) { }
return 0;

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

static double Percentile(List<double> values, double q)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}

// Plain Avro of the contract, written with Apache.Avro's generic writer (not the Producer's encoder).
static byte[] Encode(string eventId, int customer)
{
    var record = new Avro.Generic.GenericRecord(CustomerEventSchema.Schema);
    record.Add("event_id", eventId);
    record.Add("customer_id", customer);
    record.Add("event_type", "LIKE");
    record.Add("product_id", null);
    record.Add("event_timestamp", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture));
    using var stream = new MemoryStream();
    new Avro.Generic.GenericDatumWriter<Avro.Generic.GenericRecord>(CustomerEventSchema.Schema).Write(record, new Avro.IO.BinaryEncoder(stream));
    return stream.ToArray();
}

static async Task<long> ProfileTransactionsAsync(PlatformUnderTest platform, int customer)
{
    using var response = await platform.Api.GetAsync($"/customer/{customer}");
    if (!response.IsSuccessStatusCode) return 0;
    return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data").GetProperty("total_transactions").GetInt64();
}

static async Task<long> SummaryItemsAsync(PlatformUnderTest platform, DateOnly day, int customer)
{
    using var response = await platform.Api.GetAsync($"/summary/{day:yyyy-MM-dd}/{customer}");
    if (!response.IsSuccessStatusCode) return 0;
    return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data").GetProperty("summary").GetProperty("total_items").GetInt64();
}

static async Task<HashSet<string>> EventIdsAsync(PlatformUnderTest platform, int customer, DateOnly day)
{
    using var response = await platform.Api.GetAsync($"/events/{customer}?fromDate={day:yyyy-MM-dd}&limit=10000");
    if (!response.IsSuccessStatusCode) return [];
    return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data").GetProperty("events")
        .EnumerateArray().Select(e => e.GetProperty("event_id").GetString()!).ToHashSet();
}

static async Task<long> ScalarAsync(string connectionString, string sql)
{
    try
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
    catch (MySqlException)
    {
        return 0; // the seed's tables are not there yet
    }
}

static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan bound)
{
    var clock = Stopwatch.StartNew();
    while (!await Try(condition))
    {
        if (clock.Elapsed > bound) throw new TimeoutException($"Waited {bound}.");
        await Task.Delay(500);
    }

    static async Task<bool> Try(Func<Task<bool>> condition)
    {
        try { return await condition(); } catch (HttpRequestException) { return false; }
    }
}
