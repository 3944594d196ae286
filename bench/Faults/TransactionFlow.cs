using CustomerData.Bench.Profile;
using MySqlConnector;

namespace CustomerData.Bench.Faults;

/// <summary>
/// New transactions while a scenario runs: a LOAD DATA of <c>batch</c> rows with the next txn_ids every
/// <c>pause</c>. A load is one statement, so it commits whole or not at all; when MariaDB is down the same ids are
/// tried again until they are in (no gap in txn_id, so no pipeline waits out a gap grace period).
/// </summary>
public sealed class TransactionFlow : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly int _customers;
    private readonly decimal[] _prices;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _next;

    private TransactionFlow(string connectionString, int customers, decimal[] prices, long next, int batch, TimeSpan pause)
    {
        _connectionString = connectionString;
        _customers = customers;
        _prices = prices;
        _next = next;
        _loop = Task.Run(() => LoopAsync(batch, pause));
    }

    public long LastTxnId => Interlocked.Read(ref _next) - 1;
    public int FailedLoads { get; private set; }

    public static async Task<TransactionFlow> StartAsync(string connectionString, int customers, int batch, TimeSpan pause)
    {
        var prices = await BenchData.ReadPricesAsync(connectionString);
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var max = new MySqlCommand("SELECT COALESCE(MAX(txn_id), 0) FROM transactions", connection);
        return new TransactionFlow(connectionString, customers, prices, Convert.ToInt64(await max.ExecuteScalarAsync()) + 1, batch, pause);
    }

    private async Task LoopAsync(int batch, TimeSpan pause)
    {
        var random = new Random(11);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await BenchData.AppendTransactionsAsync(_connectionString, _next, batch, _customers, _prices, random);
                Interlocked.Add(ref _next, batch);
            }
            catch (MySqlException)
            {
                FailedLoads++;
                // Committed before the connection broke? Then move on; else the same ids again.
                try
                {
                    if (await MaxTxnIdAsync() >= _next + batch - 1) Interlocked.Add(ref _next, batch);
                }
                catch (MySqlException) { }
                await Task.Delay(500);
                continue;
            }
            try { await Task.Delay(pause, _stop.Token); } catch (OperationCanceledException) { }
        }
    }

    private async Task<long> MaxTxnIdAsync()
    {
        await using var connection = new MySqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var max = new MySqlCommand("SELECT COALESCE(MAX(txn_id), 0) FROM transactions", connection);
        return Convert.ToInt64(await max.ExecuteScalarAsync());
    }

    /// <summary>Stops the flow after its current load; returns the last txn_id written.</summary>
    public async Task<long> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        return LastTxnId;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        _stop.Dispose();
    }
}
