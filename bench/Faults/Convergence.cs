using System.Diagnostics;
using CustomerData.Cql.DevServer;
using CustomerData.Lake;

namespace CustomerData.Bench.Faults;

/// <summary>Waiting for a pipeline to catch up after the data stopped, and the undisturbed runs its output is compared with.</summary>
public static class Convergence
{
    /// <summary>Seconds until the pipeline's committed txn offset reached <paramref name="lastTxnId"/>.</summary>
    public static async Task<double> WaitForOffsetAsync(string mySql, string table, string column, long lastTxnId, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (await Outputs.CommittedTxnIdAsync(mySql, table, column) < lastTxnId)
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"{table} did not reach txn_id {lastTxnId} within {timeout.TotalSeconds:F0} s");
            await Task.Delay(250);
        }
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Seconds until the events lake holds at least <paramref name="expected"/> ids (or the timeout); returns the ids then.</summary>
    public static async Task<(double Seconds, List<string> Ids)> WaitForEventsAsync(ILakeStorage lake, int expected, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var ids = await Outputs.EventIdsAsync(lake);
            if (ids.Count >= expected || clock.Elapsed > timeout)
            {
                // A second look a moment later: nothing more may arrive (a duplicate would).
                await Task.Delay(3_000);
                return (clock.Elapsed.TotalSeconds - 3, await Outputs.EventIdsAsync(lake));
            }
            await Task.Delay(1_000);
        }
    }

    /// <summary>Pipeline A's <c>--rebuild</c> as its own process into a fresh CQL dev server: the undisturbed profiles.</summary>
    public static async Task<List<string>> UndisturbedProfilesAsync(FaultStack stack, string mySql, string name)
    {
        await using var cql = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 });
        await FaultStack.MigrateAsync(mySql, cql);
        await ChildService.RunToEndAsync("Pipelines.Profile", FaultStack.ProfileEnvironment(mySql, cql), stack.Folder("logs"), name + "-undisturbed-rebuild", "--rebuild");
        return await Outputs.ProfileRowsAsync(cql.ConnectionString());
    }

    /// <summary>Pipeline B's <c>--rebuild</c> as its own process into a fresh local lake: the undisturbed summary.</summary>
    public static async Task<List<string>> UndisturbedSummaryAsync(FaultStack stack, string mySql, string name)
    {
        var folder = stack.Folder(name + "-undisturbed-lake");
        await ChildService.RunToEndAsync("Pipelines.Summary", FaultStack.SummaryEnvironment(mySql, FaultStack.LocalLake(folder)), stack.Folder("logs"), name + "-undisturbed-rebuild", "--rebuild");
        return await Outputs.SummaryRowsAsync(new LocalFolderLakeStorage(folder));
    }
}
