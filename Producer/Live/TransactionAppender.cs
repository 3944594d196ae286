using System.Diagnostics;
using System.Globalization;
using System.Text;
using MySqlConnector;

namespace CustomerData.Producer.Live;

/// <summary>
/// Appends purchases stamped "now" (UTC) with multi-row INSERTs; txn_id comes from AUTO_INCREMENT.
/// Customer ids and product prices are read from the database once, so amount = qty × price holds.
/// </summary>
public sealed class TransactionAppender(MySqlDataSource dataSource, int seed, TimeProvider? time = null)
{
    private readonly Random _random = new(seed);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private (int MaxCustomerId, (int Id, decimal Price)[] Products)? _catalog;

    /// <summary>Appends <paramref name="count"/> transactions in one statement; returns the number written.</summary>
    public async Task<int> AppendAsync(int count, CancellationToken cancellationToken)
    {
        if (count <= 0) return 0;
        using var activity = ProducerTelemetry.Source.StartActivity("append transactions");
        activity?.SetTag("db.collection.name", "transactions");
        activity?.SetTag("db.rows", count);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var (maxCustomerId, products) = _catalog ??= await ReadCatalogAsync(connection, cancellationToken);
        var now = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        // The session zone decides how TIMESTAMP literals are read: pin it to UTC in the same round trip.
        var sql = new StringBuilder("SET time_zone = '+00:00'; INSERT INTO transactions (customer_id, product_id, qty, amount, txn_timestamp) VALUES ");
        for (var i = 0; i < count; i++)
        {
            var (productId, price) = products[_random.Next(products.Length)];
            var qty = 1 + (_random.Next(10) < 7 ? 0 : _random.Next(4));
            if (i > 0) sql.Append(',');
            sql.Append(CultureInfo.InvariantCulture, $"({1 + _random.Next(maxCustomerId)},{productId},{qty},{qty * price},'{now}')");
        }
        await using var command = new MySqlCommand(sql.ToString(), connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        ProducerTelemetry.AppendedTransactions.Add(count);
        return count;
    }

    private static async Task<(int, (int, decimal)[])> ReadCatalogAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand("SELECT COALESCE(MAX(customer_id), 0) FROM customers; SELECT product_id, price FROM products ORDER BY product_id", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var maxCustomerId = reader.GetInt32(0);
        await reader.NextResultAsync(cancellationToken);
        var products = new List<(int, decimal)>();
        while (await reader.ReadAsync(cancellationToken)) products.Add((reader.GetInt32(0), reader.GetDecimal(1)));
        if (maxCustomerId < 1 || products.Count == 0)
        {
            throw new InvalidOperationException("The database has no customers or products to buy: run `seed` first.");
        }
        return (maxCustomerId, products.ToArray());
    }
}
