using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using CustomerData.Contracts;
using CustomerData.Pipelines.Summary;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

[assembly: AssemblyFixture(typeof(CustomerData.TestServers.Fixtures.MariaDbFixture))]

namespace CustomerData.Api.Tests;

/// <summary>
/// The whole path of a summary: rows in MariaDB, Pipeline B's rebuild into the lake, the API's answer, compared with
/// an independent computation over the source rows (SPEC §9: UTC days, exact sums, most transactions per category with
/// ties to the ordinal-first name, missing categories as Unknown).
/// </summary>
public sealed class SummaryFromSourceTests(MariaDbFixture mariaDb)
{
    private static readonly string[] s_categories = ["Toys", "Sports", "Grocery", "Beauty"];

    [Fact]
    public async Task Every_day_of_the_api_equals_an_independent_computation_over_the_source_rows()
    {
        var ct = TestContext.Current.CancellationToken;
        var cs = await mariaDb.Server.CreateDatabaseAsync("apisummary", ct);
        await SourceSchema.ApplyAsync(cs, ct);
        await using var dataSource = new MySqlDataSource(cs);
        var random = new Random(5);
        var sql = new StringBuilder("INSERT INTO customers (customer_id, name, email, gender, signup_date) VALUES ");
        for (var c = 1; c <= 30; c++) sql.Append(CultureInfo.InvariantCulture, $"{(c > 1 ? "," : "")}({c}, 'Customer_{c}', 'customer_{c}@example.com', 'F', '2020-01-01')");
        sql.Append("; INSERT INTO products (product_id, name, category, price) VALUES ");
        var prices = new Dictionary<int, decimal>();
        for (var p = 1; p <= 12; p++)
        {
            prices[p] = 0.99m + p * 7.35m;
            sql.Append(CultureInfo.InvariantCulture, $"{(p > 1 ? "," : "")}({p}, 'Product_{p}', {(p == 12 ? "NULL" : $"'{s_categories[p % 4]}'")}, {prices[p]})");
        }
        sql.Append("; SET SESSION time_zone = '+00:00'; INSERT INTO transactions (customer_id, product_id, qty, amount, txn_timestamp) VALUES ");
        var first = new DateTime(2025, 12, 8, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < 2_000; i++)
        {
            var product = random.Next(1, 13);
            var qty = random.Next(1, 4);
            var at = first.AddSeconds(random.Next(4 * 86_400));
            sql.Append(CultureInfo.InvariantCulture, $"{(i > 0 ? "," : "")}({random.Next(1, 31)}, {product}, {qty}, {qty * prices[product]}, '{at:yyyy-MM-dd HH:mm:ss}')");
        }
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        await using (var insert = new MySqlCommand(sql.ToString(), connection))
        {
            await insert.ExecuteNonQueryAsync(ct);
        }

        await using var host = await ApiHost.StartAsync();
        using var telemetry = new SummaryTelemetry();
        var pipeline = new SummaryPipeline(dataSource, host.Lake.Storage, Options.Create(new SummaryOptions()), telemetry, NullLogger<SummaryPipeline>.Instance);
        await pipeline.RebuildAsync(cancellationToken: ct);

        var expected = await IndependentSummariesAsync(dataSource, ct);
        await host.WaitForLakeListingAsync(s => s.SummaryDays.Count == expected.Count);
        foreach (var (day, rows) in expected)
        {
            var response = await host.Client.GetAsync($"/summary/{day}", ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var answered = json.RootElement.GetProperty("data").GetProperty("summaries").EnumerateArray()
                .Select(e => $"{e.GetProperty("date").GetString()}|{e.GetProperty("customer_id").GetInt32()}|{e.GetProperty("total_amount").GetRawText()}|{e.GetProperty("total_items").GetInt32()}|{e.GetProperty("distinct_products").GetInt32()}|{e.GetProperty("top_category").GetString()}")
                .ToList();
            Assert.Equal(rows, answered);
        }
    }

    /// <summary>From the raw rows, in C#: nothing of the pipeline's SQL.</summary>
    private static async Task<SortedDictionary<string, List<string>>> IndependentSummariesAsync(MySqlDataSource dataSource, CancellationToken ct)
    {
        var rows = new List<(string Day, int Customer, int Product, int Qty, decimal Amount, string Category)>();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = new MySqlCommand(
            "SET SESSION time_zone = '+00:00'; SELECT DATE_FORMAT(t.txn_timestamp, '%Y-%m-%d'), t.customer_id, t.product_id, t.qty, t.amount, p.category " +
            "FROM transactions t JOIN products p ON p.product_id = t.product_id", connection);
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                rows.Add((reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetDecimal(4),
                    reader.IsDBNull(5) || reader.GetString(5).Length == 0 ? "Unknown" : reader.GetString(5)));
            }
        }
        var result = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var day in rows.GroupBy(r => r.Day))
        {
            result[day.Key] = day.GroupBy(r => r.Customer).OrderBy(g => g.Key).Select(g =>
            {
                var top = g.GroupBy(r => r.Category).OrderByDescending(c => c.Count()).ThenBy(c => c.Key, StringComparer.Ordinal).First().Key;
                var amount = g.Sum(r => r.Amount) / 1.000000000000000000000000000m; // no trailing zeros, as the API writes money
                return $"{day.Key}|{g.Key}|{amount.ToString(CultureInfo.InvariantCulture)}|{g.Sum(r => r.Qty)}|{g.Select(r => r.Product).Distinct().Count()}|{top}";
            }).ToList();
        }
        return result;
    }
}
