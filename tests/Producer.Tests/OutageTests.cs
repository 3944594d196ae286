using System.Collections.Concurrent;
using CustomerData.Producer.Live;
using CustomerData.TestServers;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using static CustomerData.Producer.Tests.TestSupport;

namespace CustomerData.Producer.Tests;

public sealed class OutageTests
{
    [Fact]
    public async Task Run_keeps_going_through_a_mysql_outage_and_resumes_appending()
    {
        // A server of its own: stopping the shared one would break the tests running beside this one.
        await using var server = await MariaDbServer.StartAsync(Token);
        var cs = new MySqlConnectionStringBuilder(await server.CreateDatabaseAsync("outage", Token)) { ConnectionTimeout = 2 }.ConnectionString;
        var seed = await RunCliAsync("seed", "--mysql", cs, "--customers", "20", "--products", "10", "--transactions", "1000");
        Assert.True(seed.ExitCode == 0, seed.Error);
        var logger = new CapturingLogger();
        var options = new ProducerOptions { TxnRate = 50, EventRate = 0, MaxRetryDelay = TimeSpan.FromSeconds(2) };
        await using var dataSource = new MySqlDataSource(cs);
        var runner = new LiveRunner(options, cs, dataSource, producer: null, kafkaBootstrapServers: null, logger);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var running = runner.RunAsync(seedIfEmpty: false, duration: TimeSpan.FromSeconds(60), stop.Token);

        await WaitUntilAsync(() => runner.TransactionsAppended > 20);
        await server.StopAsync();
        await WaitUntilAsync(() => logger.Messages.Any(m => m.Contains("MySQL is unreachable", StringComparison.Ordinal)));
        var appendedWhileDown = runner.TransactionsAppended;
        await Task.Delay(TimeSpan.FromSeconds(2), Token);
        await server.RestartAsync(Token);
        await WaitUntilAsync(() => runner.TransactionsAppended > appendedWhileDown + 20);
        await stop.CancelAsync();
        await running;

        Assert.Contains(logger.Messages, m => m.Contains("MySQL is back", StringComparison.Ordinal));
        Assert.False(running.IsFaulted);
        // At least what was reported (a commit whose reply was lost in the outage may add a few more).
        Assert.True(await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions") >= 1000 + runner.TransactionsAppended);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Condition not reached within 45 s.");
            await Task.Delay(100, Token);
        }
    }

    private sealed class CapturingLogger : ILogger
    {
        private readonly ConcurrentQueue<string> _messages = new();
        public IReadOnlyCollection<string> Messages => _messages;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _messages.Enqueue(formatter(state, exception));
    }
}
