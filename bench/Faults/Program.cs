// Fault scenarios (issue #16): the pipelines and the Api as real child processes (their Release DLLs) over real servers
// (tests/TestServers: MariaDB, the librdkafka mock cluster, s3rver; the CQL dev server), with data flowing; prints one
// Markdown table. Build: dotnet build bench/Faults -c Release
// Run:   dotnet bench/Faults/bin/Release/net10.0/Faults.dll [--only kill-a,kill-b,kill-c,mariadb,s3,cql,kafka] [--kills 3]
//        [--down-seconds 30] [--seed N] [--report FILE]
using System.Globalization;
using CustomerData.Bench.Faults;

var only = StringArg("--only", "kill-a,kill-b,kill-c,mariadb,s3,cql,kafka").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
var kills = int.Parse(StringArg("--kills", "3"), CultureInfo.InvariantCulture);
var downtime = TimeSpan.FromSeconds(int.Parse(StringArg("--down-seconds", "30"), CultureInfo.InvariantCulture));
var seed = int.Parse(StringArg("--seed", Random.Shared.Next(1_000_000).ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
var started = DateTime.UtcNow;
Console.Error.WriteLine($"Faults: {string.Join(", ", only)}; {kills} kills; outages {downtime.TotalSeconds:F0} s; seed {seed}; load {File.ReadAllText("/proc/loadavg").Trim()}");

await using var stack = await FaultStack.StartAsync();
var kill = new PipelineKills(stack, new Random(seed), kills);
var outages = new Outages(stack, downtime);
var scenarios = new Dictionary<string, Func<Task<List<FaultResult>>>>
{
    ["kill-a"] = async () => [await kill.ProfileAsync()],
    ["kill-b"] = async () => [await kill.SummaryAsync()],
    ["kill-c"] = async () => [await kill.EventsAsync()],
    ["mariadb"] = outages.MariaDbRestartAsync,
    ["s3"] = outages.S3DownAsync,
    ["kafka"] = async () => [await outages.KafkaDownAsync()],
    ["cql"] = outages.CqlRestartAsync,
};
var results = new List<FaultResult>();
foreach (var name in only)
{
    var clock = System.Diagnostics.Stopwatch.StartNew();
    try
    {
        var rows = await scenarios[name]();
        results.AddRange(rows);
        foreach (var r in rows) Console.Error.WriteLine($"{name}: {(r.Passed ? "passed" : "FAILED")} in {clock.Elapsed.TotalSeconds:F0} s: {r.Output}; {r.Health}; {r.Recovery}");
    }
    catch (Exception ex)
    {
        results.Add(new FaultResult(name, "", "", "", $"**failed to run**: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}", false));
        Console.Error.WriteLine($"{name}: FAILED to run: {ex}");
    }
}

var lines = new List<string>
{
    $"Fault scenarios, {started:yyyy-MM-dd HH:mm}-{DateTime.UtcNow:HH:mm} UTC, {Environment.ProcessorCount} cores, seed {seed}, load average at the end {File.ReadAllText("/proc/loadavg").Trim()}; " +
    $"command: `dotnet bench/Faults/bin/Release/net10.0/Faults.dll {string.Join(' ', args)}`",
    "",
    "| scenario | fault | /health during the fault | recovery | output | result |",
    "|---|---|---|---|---|---|",
};
lines.AddRange(results.Select(r => $"| {r.Scenario} | {r.Fault} | {r.Health} | {r.Recovery} | {r.Output} | {(r.Passed ? "passed" : "**FAILED**")} |"));
lines.Add("");
lines.Add($"{results.Count(r => r.Passed)} of {results.Count} passed.");
foreach (var line in lines) Console.WriteLine(line);
if (StringArg("--report", "") is { Length: > 0 } report) await File.WriteAllLinesAsync(report, lines);
return results.All(r => r.Passed) ? 0 : 1;

string StringArg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
