using System.Globalization;
using Confluent.Kafka;
using MySqlConnector;

namespace CustomerData.Producer.Tests;

internal static class TestSupport
{
    public static CancellationToken Token => TestContext.Current.CancellationToken;

    public sealed record CliResult(int ExitCode, string Output, string Error);

    /// <summary>Runs the Producer's command line in-process, bounded by a timeout.</summary>
    public static async Task<CliResult> RunCliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        var code = await Cli.ProducerCli.RunAsync(args, output, error, timeout.Token);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(Token);
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Token), CultureInfo.InvariantCulture);
    }

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(Token);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Token);
    }

    /// <summary>A fingerprint of every row of the three source tables (as UTC text), to compare databases.</summary>
    public static async Task<string> FingerprintAsync(string connectionString)
    {
        var parts = new List<string>();
        foreach (var sql in new[]
                 {
                     "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', customer_id, name, email, gender, signup_date))), 0) FROM customers",
                     "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', product_id, name, COALESCE(category, '-'), price))), 0) FROM products",
                     "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', txn_id, customer_id, product_id, qty, amount, UNIX_TIMESTAMP(txn_timestamp)))), 0) FROM transactions",
                 })
        {
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync(Token);
            await using var command = new MySqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync(Token);
            await reader.ReadAsync(Token);
            parts.Add($"{reader.GetValue(0)}:{reader.GetValue(1)}");
        }
        return string.Join(" ", parts);
    }

    /// <summary>Reads <paramref name="expected"/> messages from the start of <paramref name="topic"/> (gives up after 60 s).</summary>
    public static List<ConsumeResult<byte[]?, byte[]>> Consume(string bootstrapServers, string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "test-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var messages = new List<ConsumeResult<byte[]?, byte[]>>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (messages.Count < expected && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is { IsPartitionEOF: false, Message: not null }) messages.Add(result);
        }
        consumer.Close();
        return messages;
    }

    /// <summary>Messages in a topic by its partitions' watermarks; 0 while the topic does not exist yet.</summary>
    public static long MessagesInTopic(string bootstrapServers, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(5)).Topics.SingleOrDefault(t => t.Topic == topic);
        if (metadata is null || metadata.Error.IsError) return 0;
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "watermarks-" + Guid.NewGuid().ToString("N"),
        }).Build();
        return metadata.Partitions.Sum(p =>
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p.PartitionId), TimeSpan.FromSeconds(5));
            return w.High.Value - w.Low.Value;
        });
    }
}
