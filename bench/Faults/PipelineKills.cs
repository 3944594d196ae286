using System.Globalization;
using CustomerData.Lake;

namespace CustomerData.Bench.Faults;

/// <summary>
/// kill -9 of each pipeline at random moments while data flows, each time started again after a second; when the data
/// stops and the pipeline has caught up, its output must equal an undisturbed run's (A, B: a <c>--rebuild</c> of the same
/// source into a fresh store) or the events the cluster acknowledged (C: every valid event exactly once).
/// </summary>
public sealed class PipelineKills(FaultStack stack, Random random, int kills)
{
    public async Task<FaultResult> ProfileAsync()
    {
        var mySql = await stack.NewSourceAsync("kill_a");
        await using var cql = await stack.StartCqlAsync(Path.Combine(stack.Folder("kill-a"), "cql.data"));
        await FaultStack.MigrateAsync(mySql, cql);
        await using var pipeline = new ChildService("kill-a-profile", "Pipelines.Profile", FaultStack.ProfileEnvironment(mySql, cql), stack.Folder("logs"));
        var (moments, caughtUp) = await KillWhileTransactionsFlowAsync(pipeline, mySql, "profile_offsets", "last_txn_id");
        await pipeline.Kill9Async();
        var output = Outputs.Compare(await Outputs.ProfileRowsAsync(cql.ConnectionString()), await Convergence.UndisturbedProfilesAsync(stack, mySql, "kill-a"), "profiles");
        return Result("kill -9 Pipeline A (profiles)", moments, caughtUp, output, "vs an undisturbed `--rebuild`");
    }

    public async Task<FaultResult> SummaryAsync()
    {
        var mySql = await stack.NewSourceAsync("kill_b");
        var folder = stack.Folder("kill-b-lake");
        await using var pipeline = new ChildService("kill-b-summary", "Pipelines.Summary", FaultStack.SummaryEnvironment(mySql, FaultStack.LocalLake(folder)), stack.Folder("logs"));
        var (moments, caughtUp) = await KillWhileTransactionsFlowAsync(pipeline, mySql, "txn_summary_offsets", "last_txnid");
        await pipeline.Kill9Async();
        var output = Outputs.Compare(await Outputs.SummaryRowsAsync(new LocalFolderLakeStorage(folder)), await Convergence.UndisturbedSummaryAsync(stack, mySql, "kill-b"), "summary rows");
        return Result("kill -9 Pipeline B (daily summary)", moments, caughtUp, output, "vs an undisturbed `--rebuild`");
    }

    public async Task<FaultResult> EventsAsync()
    {
        var folder = stack.Folder("kill-c-lake");
        const string topic = "faults-kill-c";
        stack.Kafka.EnsureTopic(topic);
        await using var pipeline = new ChildService("kill-c-events", "Pipelines.Events", stack.EventsEnvironment(topic, FaultStack.LocalLake(folder)), stack.Folder("logs"));
        pipeline.Start();
        await pipeline.WaitHealthyAsync(TimeSpan.FromSeconds(90));
        await using var flow = new EventFlow(stack.Kafka.BootstrapServers, topic, eventsPerSecond: 1_000);
        var moments = await KillAtRandomMomentsAsync(pipeline);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var delivered = await flow.StopAsync();
        var (seconds, ids) = await Convergence.WaitForEventsAsync(new LocalFolderLakeStorage(folder), delivered.Count, TimeSpan.FromSeconds(120));
        await pipeline.Kill9Async();
        var output = Outputs.Compare(ids, [.. delivered.Order(StringComparer.Ordinal)], $"events ({flow.Malformed:N0} malformed left out)");
        return Result("kill -9 Pipeline C (events)", moments, seconds, output, "vs the valid events the cluster acknowledged");
    }

    private async Task<(List<double> Moments, double CaughtUp)> KillWhileTransactionsFlowAsync(ChildService pipeline, string mySql, string offsetTable, string offsetColumn)
    {
        pipeline.Start();
        await pipeline.WaitHealthyAsync(TimeSpan.FromSeconds(90));
        await using var flow = await TransactionFlow.StartAsync(mySql, FaultStack.Customers, batch: 200, pause: TimeSpan.FromMilliseconds(200));
        var moments = await KillAtRandomMomentsAsync(pipeline);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var last = await flow.StopAsync();
        var caughtUp = await Convergence.WaitForOffsetAsync(mySql, offsetTable, offsetColumn, last, TimeSpan.FromSeconds(120));
        await pipeline.WaitHealthyAsync(TimeSpan.FromSeconds(60));
        return (moments, caughtUp);
    }

    /// <summary>Kills the running pipeline after 2-8 s (random), starts it again a second later; <c>kills</c> times.</summary>
    private async Task<List<double>> KillAtRandomMomentsAsync(ChildService pipeline)
    {
        var moments = new List<double>();
        for (var k = 0; k < kills; k++)
        {
            var after = 2 + random.NextDouble() * 6;
            await Task.Delay(TimeSpan.FromSeconds(after));
            await pipeline.Kill9Async();
            moments.Add(after);
            await Task.Delay(TimeSpan.FromSeconds(1));
            pipeline.Start();
        }
        return moments;
    }

    private static FaultResult Result(string scenario, List<double> moments, double caughtUp, string output, string against) => new(
        scenario,
        $"{moments.Count} × SIGKILL, {string.Join(" / ", moments.Select(m => m.ToString("F1", CultureInfo.InvariantCulture)))} s after each start, restarted 1 s later, data flowing",
        "down while killed (no answer)",
        $"caught up {caughtUp:F1} s after the data stopped",
        $"{output} {against}",
        output.StartsWith("equal", StringComparison.Ordinal));
}
