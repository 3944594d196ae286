using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;
using CustomerData.Contracts;
using MySqlConnector;

namespace CustomerData.AppHost.Tests;

/// <summary>
/// The platform as a user runs it (issue 16): the AppHost in local mode, the Producer seeding and streaming (1 in 50
/// events malformed), the three pipelines running. Once the Producer stops, every answer of the API equals an
/// independent computation — profiles and daily summaries from MySQL by SQL, events from the Kafka topic decoded with
/// the contract's Avro schema — within <see cref="s_convergenceBound"/> (README "End to end").
/// </summary>
public sealed class EndToEndTests
{
    private static readonly TimeSpan s_readyBound = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan s_seedBound = TimeSpan.FromMinutes(3);
    // Profiles and summaries run a cycle every 2 s under the AppHost, events flush every 2 s, the API lists the lake every 1 s.
    private static readonly TimeSpan s_convergenceBound = TimeSpan.FromSeconds(60);

    private static readonly PlatformUnderTest.Seed s_seed = new(Customers: 200, Products: 40, Transactions: 6_000,
        HistoryStart: DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-30), TxnRate: 20, EventRate: 40, MalformedRate: 0.02);

    [Fact]
    public async Task Every_api_answer_equals_an_independent_computation_from_mysql_and_the_events_produced()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataFolder = Path.Combine(Path.GetTempPath(), $"cdp-e2e-{Guid.NewGuid():N}");
        try
        {
            await using var platform = await PlatformUnderTest.StartAsync(dataFolder, s_seed, s_readyBound, ct);

            // The seed is in, and the live stream has appended transactions and sent events for a while.
            await WaitUntilAsync(async () => await ScalarAsync(platform.MySql, "SELECT COUNT(*) FROM transactions") >= s_seed.Transactions + 600,
                s_seedBound, "the seed and 600 live transactions (30 s of the live stream)", ct);
            await platform.StopAsync("producer", ct);
            var stopped = Stopwatch.StartNew();

            var profiles = await ExpectedProfilesAsync(platform.MySql, ct);
            var summaries = await ExpectedSummariesAsync(platform.MySql, ct);
            var (events, malformed) = ExpectedEvents(platform.Kafka);
            var eventCount = events.Values.Sum(ids => ids.Count);
            TestContext.Current.SendDiagnosticMessage($"Producer stopped: {profiles.Values.Sum(p => p.Transactions)} transactions, {eventCount} valid and {malformed} malformed events.");
            Assert.True(eventCount >= 100, $"{eventCount} valid events produced");
            Assert.True(malformed > 0, "the malformed share reached Kafka");

            // Converged when every answer agrees; the last differences are the failure message when they never do.
            var customers = profiles.Keys.Order().ToList();
            var days = summaries.Keys.Order().ToList();
            List<string> differences = [];
            await WaitUntilAsync(async () =>
                {
                    differences = [.. await CompareProfilesAsync(platform, profiles, customers, ct),
                        .. await CompareSummariesAsync(platform, summaries, days, ct),
                        .. await CompareEventsAsync(platform, events, Enumerable.Range(1, s_seed.Customers).ToList(), ct)];
                    return differences.Count == 0;
                },
                s_convergenceBound, "every API answer to agree with MySQL and Kafka", ct, () => string.Join("\n", differences.Take(10)));
            TestContext.Current.SendDiagnosticMessage($"Answers agreed {stopped.Elapsed.TotalSeconds:F1} s after the Producer stopped.");
            Assert.Empty(platform.UnhealthyResources("producer"));
        }
        finally
        {
            try { Directory.Delete(dataFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private sealed record Profile(long Transactions, decimal Spend, DateTime First, DateTime Last);

    private static async Task<Dictionary<int, Profile>> ExpectedProfilesAsync(string mySql, CancellationToken ct)
    {
        var result = new Dictionary<int, Profile>();
        await using var connection = await OpenUtcAsync(mySql, ct);
        await using var command = new MySqlCommand(
            "SELECT customer_id, COUNT(*), SUM(amount), MIN(txn_timestamp), MAX(txn_timestamp) FROM transactions GROUP BY customer_id", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result[reader.GetInt32(0)] = new Profile(reader.GetInt64(1), reader.GetDecimal(2), reader.GetDateTime(3), reader.GetDateTime(4));
        }
        return result;
    }

    private sealed record DaySummary(decimal Amount, long Items, long Products);

    private static async Task<Dictionary<DateOnly, Dictionary<int, DaySummary>>> ExpectedSummariesAsync(string mySql, CancellationToken ct)
    {
        var result = new Dictionary<DateOnly, Dictionary<int, DaySummary>>();
        await using var connection = await OpenUtcAsync(mySql, ct);
        await using var command = new MySqlCommand(
            "SELECT DATE(txn_timestamp), customer_id, SUM(amount), SUM(qty), COUNT(DISTINCT product_id) FROM transactions GROUP BY 1, 2", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var day = DateOnly.FromDateTime(reader.GetDateTime(0));
            if (!result.TryGetValue(day, out var customers)) result[day] = customers = [];
            customers[reader.GetInt32(1)] = new DaySummary(reader.GetDecimal(2), reader.GetInt64(3), reader.GetInt64(4));
        }
        return result;
    }

    /// <summary>Every message of the topic, decoded by the contract's schema as SPEC §5 defines valid: whole Avro, an event id and type, a key.</summary>
    private static (Dictionary<int, HashSet<string>> ByCustomer, int Malformed) ExpectedEvents(string kafka)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = kafka, GroupId = "e2e-" + Guid.NewGuid().ToString("N"), EnableAutoCommit = false,
        }).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = kafka }).Build();
        var partitions = admin.GetMetadata(PlatformNames.EventsTopic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new TopicPartition(PlatformNames.EventsTopic, p.PartitionId)).ToList();
        var ends = partitions.ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var byCustomer = new Dictionary<int, HashSet<string>>();
        var malformed = 0;
        var remaining = ends.Values.Sum();
        var reader = new GenericDatumReader<GenericRecord>(CustomerEventSchema.Schema, CustomerEventSchema.Schema);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (remaining > 0 && DateTime.UtcNow < deadline)
        {
            var message = consumer.Consume(TimeSpan.FromSeconds(1));
            if (message is null) continue;
            remaining--;
            if (TryDecode(reader, message.Message) is { } valid) (byCustomer.TryGetValue(valid.CustomerId, out var ids) ? ids : byCustomer[valid.CustomerId] = []).Add(valid.EventId);
            else malformed++;
        }
        Assert.Equal(0, remaining);
        return (byCustomer, malformed);
    }

    private static (int CustomerId, string EventId)? TryDecode(GenericDatumReader<GenericRecord> reader, Message<byte[]?, byte[]?> message)
    {
        if (message.Key is null || message.Value is null) return null;
        try
        {
            using var stream = new MemoryStream(message.Value);
            var record = reader.Read(null!, new BinaryDecoder(stream));
            if (stream.Position != stream.Length) return null;
            var eventId = record["event_id"] as string;
            var eventType = record["event_type"] as string;
            if (string.IsNullOrEmpty(eventId) || string.IsNullOrEmpty(eventType)) return null;
            return ((int)record["customer_id"], eventId);
        }
        catch (Exception ex) when (ex is Avro.AvroException or EndOfStreamException or IOException or InvalidCastException or ArgumentException or OverflowException)
        {
            return null;
        }
    }

    private static async Task<List<string>> CompareProfilesAsync(PlatformUnderTest platform, Dictionary<int, Profile> expected, IReadOnlyList<int> customers, CancellationToken ct)
    {
        var differences = new List<string>();
        foreach (var id in customers)
        {
            using var response = await platform.Api.GetAsync($"/customer/{id}", ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode) { differences.Add($"customer {id}: {(int)response.StatusCode} {body}"); continue; }
            var data = JsonDocument.Parse(body).RootElement.GetProperty("data");
            var want = expected[id];
            var average = Math.Round(want.Spend / want.Transactions, 2, MidpointRounding.AwayFromZero);
            if (data.GetProperty("total_transactions").GetInt64() != want.Transactions
                || data.GetProperty("total_spend").GetDecimal() != want.Spend
                || data.GetProperty("avg_order_value").GetDecimal() != average
                || Instant(data.GetProperty("first_purchase")) != want.First
                || Instant(data.GetProperty("last_purchase")) != want.Last)
            {
                differences.Add($"customer {id}: API {data} vs MySQL {want} (avg {average})");
            }
        }
        return differences;
    }

    private static async Task<List<string>> CompareSummariesAsync(PlatformUnderTest platform, Dictionary<DateOnly, Dictionary<int, DaySummary>> expected, IReadOnlyList<DateOnly> days, CancellationToken ct)
    {
        var differences = new List<string>();
        foreach (var day in days)
        {
            using var response = await platform.Api.GetAsync($"/summary/{day:yyyy-MM-dd}", ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode) { differences.Add($"{day}: {(int)response.StatusCode} {body}"); continue; }
            var rows = JsonDocument.Parse(body).RootElement.GetProperty("data").GetProperty("summaries").EnumerateArray()
                .ToDictionary(r => r.GetProperty("customer_id").GetInt32(), r => new DaySummary(
                    r.GetProperty("total_amount").GetDecimal(), r.GetProperty("total_items").GetInt64(), r.GetProperty("distinct_products").GetInt64()));
            var want = expected[day];
            if (rows.Count != want.Count || want.Any(kv => !rows.TryGetValue(kv.Key, out var got) || got != kv.Value))
            {
                var first = want.FirstOrDefault(kv => !rows.TryGetValue(kv.Key, out var got) || got != kv.Value);
                differences.Add($"{day}: API {rows.Count} customers vs MySQL {want.Count}; e.g. customer {first.Key}: MySQL {first.Value}, API {rows.GetValueOrDefault(first.Key)}");
            }
        }
        return differences;
    }

    private static async Task<List<string>> CompareEventsAsync(PlatformUnderTest platform, Dictionary<int, HashSet<string>> expected, IReadOnlyList<int> customers, CancellationToken ct)
    {
        var differences = new List<string>();
        foreach (var id in customers)
        {
            using var response = await platform.Api.GetAsync($"/events/{id}?limit=10000", ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            var want = expected.GetValueOrDefault(id) ?? [];
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound && want.Count == 0) continue;
            if (!response.IsSuccessStatusCode) { differences.Add($"events of {id}: {(int)response.StatusCode} {body}"); continue; }
            var ids = JsonDocument.Parse(body).RootElement.GetProperty("data").GetProperty("events").EnumerateArray()
                .Select(e => e.GetProperty("event_id").GetString()!).ToList();
            if (ids.Count != ids.Distinct().Count() || !want.SetEquals(ids))
            {
                differences.Add($"events of {id}: API {ids.Count} ({ids.Distinct().Count()} distinct), produced {want.Count}, missing {want.Except(ids).Count()}, extra {ids.Except(want).Count()}");
            }
        }
        return differences;
    }

    private static DateTime Instant(JsonElement value) =>
        DateTime.Parse(value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    private static async Task<MySqlConnection> OpenUtcAsync(string connectionString, CancellationToken ct)
    {
        var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var zone = new MySqlCommand("SET time_zone = '+00:00'", connection);
        await zone.ExecuteNonQueryAsync(ct);
        return connection;
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan bound, string what, CancellationToken ct, Func<string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception ex) when (ex is MySqlException or HttpRequestException && clock.Elapsed < bound)
            {
                // Not there yet (the seed's tables, the API's first listing).
            }
            if (clock.Elapsed > bound) Assert.Fail($"Waited {bound} for {what}. {describe?.Invoke()}");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }
}
