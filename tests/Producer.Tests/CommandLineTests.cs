using CustomerData.TestServers;
using MySqlConnector;
using static CustomerData.Producer.Tests.TestSupport;

namespace CustomerData.Producer.Tests;

public sealed class CommandLineTests(MariaDbFixture mariaDb)
{
    [Theory]
    [InlineData("events", "--count", "abc")]
    [InlineData("events", "--count", "0")]
    [InlineData("events", "--count", "10", "--malformed-rate", "1.5")]
    [InlineData("seed", "--transactions", "-5")]
    [InlineData("seed", "--history-start", "2020-02-30")]
    [InlineData("run", "--duration", "soon")]
    [InlineData("run", "--txn-rate", "-1")]
    public async Task Invalid_option_is_a_usage_error_naming_the_option(params string[] args)
    {
        var result = await RunCliAsync(args);

        Assert.Equal(2, result.ExitCode);
        var option = args.Last(a => a.StartsWith("--", StringComparison.Ordinal));
        Assert.Contains(option, result.Error, StringComparison.Ordinal);
        Assert.Contains($"producer {args[0]} --help", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("seed", "--no-such-option")]
    [InlineData("events")]
    public async Task Unknown_verb_option_or_missing_required_option_exits_2(params string[] args)
    {
        var result = await RunCliAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error:", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("init")]
    [InlineData("seed")]
    [InlineData("run")]
    [InlineData("events")]
    public async Task Every_verb_has_help(string verb)
    {
        var result = await RunCliAsync(verb, "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($" {verb} [options]", result.Output, StringComparison.Ordinal);
        Assert.Contains("--help", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_mysql_is_a_clear_error_with_exit_code_1()
    {
        var connectionString = new MySqlConnectionStringBuilder(mariaDb.Server.ServerConnectionString)
        {
            Port = (uint)ServerProcess.FreeTcpPort(),
            Database = "nowhere",
            ConnectionTimeout = 2,
        }.ConnectionString;

        var result = await RunCliAsync("init", "--mysql", connectionString);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("unreachable", result.Error, StringComparison.Ordinal);
        Assert.Contains("/nowhere", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(MariaDbServer.Password, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_kafka_fails_the_burst_with_a_clear_message()
    {
        var result = await RunCliAsync("events", "--count", "20", "--kafka", $"127.0.0.1:{ServerProcess.FreeTcpPort()}", "--timeout", "3s");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("did not acknowledge 20 of 20 events", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_twice_leaves_the_same_schema()
    {
        var connectionString = await mariaDb.Server.CreateDatabaseAsync("init", Token);

        var first = await RunCliAsync("init", "--mysql", connectionString);
        var schemaAfterFirst = await DescribeAsync(connectionString);
        var second = await RunCliAsync("init", "--mysql", connectionString);
        var schemaAfterSecond = await DescribeAsync(connectionString);

        Assert.Equal((0, 0), (first.ExitCode, second.ExitCode));
        Assert.Equal(schemaAfterFirst, schemaAfterSecond);
        Assert.Contains(schemaAfterFirst, c => c.StartsWith("transactions.txn_id BIGINT", StringComparison.Ordinal) && c.EndsWith("NO PRI auto_increment", StringComparison.Ordinal));
        Assert.Contains("customers.email VARCHAR(150) NO UNI ", schemaAfterFirst);
        Assert.Equal(0, first.Error.Length);
    }

    private static async Task<List<string>> DescribeAsync(string connectionString)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(Token);
        await using var command = new MySqlCommand(
            "SELECT CONCAT(table_name, '.', column_name, ' ', UPPER(column_type), ' ', is_nullable, ' ', column_key, ' ', extra) " +
            "FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position", connection);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Token);
        while (await reader.ReadAsync(Token)) rows.Add(reader.GetString(0));
        return rows;
    }
}
