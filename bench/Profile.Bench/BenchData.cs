using System.Globalization;
using System.Text;
using MySqlConnector;

namespace CustomerData.Bench.Profile;

/// <summary>Synthetic source data loaded with LOAD DATA LOCAL INFILE (MySqlBulkLoader) from generated text streams.</summary>
public static class BenchData
{
    public static readonly string[] Categories = ["Electronics", "Grocery", "Sports", "Toys", "Health", "Beauty", "Home", "Books"];
    private static readonly DateTime s_start = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static async Task LoadAsync(string connectionString, int customers, int products, int transactions, int seed)
    {
        var random = new Random(seed);
        var prices = new decimal[products + 1];
        var productRows = new StringBuilder();
        for (var p = 1; p <= products; p++)
        {
            prices[p] = Math.Round((decimal)(random.NextDouble() * 500 + 1), 2);
            var category = p % 37 == 0 ? "\\N" : Categories[random.Next(Categories.Length)];
            productRows.Append(CultureInfo.InvariantCulture, $"{p}\tProduct_{p}\t{category}\t{prices[p]}\n");
        }
        var customerRows = new StringBuilder();
        var genders = new[] { "M", "F", "O" };
        for (var c = 1; c <= customers; c++)
        {
            customerRows.Append(CultureInfo.InvariantCulture,
                $"{c}\tCustomer_{c}\tcustomer_{c}@example.com\t{genders[random.Next(3)]}\t{s_start.AddDays(random.Next(1500)):yyyy-MM-dd}\n");
        }
        await LoadTextAsync(connectionString, "customers", ["customer_id", "name", "email", "gender", "signup_date"], customerRows.ToString());
        await LoadTextAsync(connectionString, "products", ["product_id", "name", "category", "price"], productRows.ToString());
        await AppendTransactionsAsync(connectionString, 1, transactions, customers, prices, random);
    }

    /// <summary>Transactions with txn_ids <paramref name="firstId"/>.. in one bulk load.</summary>
    public static async Task AppendTransactionsAsync(string connectionString, long firstId, int count, int customers, decimal[] prices, Random random)
    {
        var text = new StringBuilder(count * 48);
        var span = (long)(DateTime.UtcNow - s_start).TotalSeconds;
        for (var i = 0; i < count; i++)
        {
            var product = 1 + random.Next(prices.Length - 1);
            var qty = 1 + random.Next(5);
            var ts = s_start.AddSeconds(random.NextInt64(span));
            text.Append(CultureInfo.InvariantCulture,
                $"{firstId + i}\t{1 + random.Next(customers)}\t{product}\t{qty}\t{qty * prices[product]}\t{ts:yyyy-MM-dd HH:mm:ss}\n");
        }
        await LoadTextAsync(connectionString, "transactions", ["txn_id", "customer_id", "product_id", "qty", "amount", "txn_timestamp"], text.ToString());
    }

    public static async Task<decimal[]> ReadPricesAsync(string connectionString)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SELECT product_id, price FROM products ORDER BY product_id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var prices = new List<decimal> { 0m };
        while (await reader.ReadAsync()) prices.Add(reader.GetDecimal(1));
        return prices.ToArray();
    }

    private static async Task LoadTextAsync(string connectionString, string table, string[] columns, string text)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var zone = new MySqlCommand("SET time_zone = '+00:00'", connection)) await zone.ExecuteNonQueryAsync();
        var loader = new MySqlBulkLoader(connection)
        {
            TableName = table,
            Local = true,
            FieldTerminator = "\t",
            LineTerminator = "\n",
            SourceStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
        };
        loader.Columns.AddRange(columns);
        await loader.LoadAsync();
    }
}
