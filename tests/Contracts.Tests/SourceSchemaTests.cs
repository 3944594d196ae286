using MySqlConnector;

namespace CustomerData.Contracts.Tests;

public sealed class SourceSchemaTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task Applying_the_schema_twice_leaves_the_same_schema()
    {
        var connectionString = await mariaDb.Server.CreateDatabaseAsync("schema", TestContext.Current.CancellationToken);

        await SourceSchema.ApplyAsync(connectionString, TestContext.Current.CancellationToken);
        var first = await DescribeAsync(connectionString);
        await SourceSchema.ApplyAsync(connectionString, TestContext.Current.CancellationToken);
        var second = await DescribeAsync(connectionString);

        Assert.Equal(first, second);
        Assert.Contains(first, c => c.StartsWith("customers.email VARCHAR(150)", StringComparison.Ordinal));
        Assert.Contains(first, c => c.StartsWith("transactions.txn_id BIGINT", StringComparison.Ordinal));
        Assert.Contains(first, c => c.StartsWith("txn_summary_offsets.last_txnid BIGINT", StringComparison.Ordinal));
        Assert.Contains(first, c => c.StartsWith("profile_offsets.last_txn_id BIGINT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Schema_creates_the_database_when_missing()
    {
        var builder = new MySqlConnectionStringBuilder(mariaDb.Server.ServerConnectionString) { Database = "fresh_" + Guid.NewGuid().ToString("N")[..8] };

        await SourceSchema.ApplyAsync(builder.ConnectionString, TestContext.Current.CancellationToken);

        Assert.Contains(await DescribeAsync(builder.ConnectionString), c => c.StartsWith("customers.customer_id INT", StringComparison.Ordinal));
    }

    private static async Task<List<string>> DescribeAsync(string connectionString)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(
            "SELECT CONCAT(table_name, '.', column_name, ' ', UPPER(column_type), ' ', is_nullable, ' ', column_key) " +
            "FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position", connection);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }
}
