// API benchmark (issue #12, SPEC §7, §8): the API's Release build as its own process over a generated lake (730 summary
// days, 30 compacted events days of 200,000 events) and the CQL dev server (5,000 profiles), loaded from this process:
// the §8 seed mix and a random mix, at 20 and 100 connections, flat out and paced (20 ms between requests); beside it
// the same questions bare through DuckDB.NET, the API uncached (Api:CacheLakeFiles=false), and the ceiling: a minimal
// API process answering the seed mix's bodies precomputed.
// Build: dotnet build bench/Api.Bench -c Release   (builds Api's Release too; the bench starts Api/bin/Release/net10.0/Api.dll)
// Run:   dotnet bench/Api.Bench/bin/Release/net10.0/Api.Bench.dll [--quick] [--seconds 60] [--connections 20,100] [--customers 5000]
//        [--summary-days 730] [--event-days 30] [--events-per-day 200000] [--bare-threads 4] [--explain-only] [--keep]
//        [--auth-cost]  (only: the cached API with and without authentication, seed and random mixes)
//        [--soak 600]   (only: the cached API at a fixed load, 20 connections paced 20 ms, RSS every 10 s; issue #16)
//        [--events-curve 30,90,365]  (only: /events p99 over the last N days, e.g. with --event-days 365 --events-per-day 20000)
using System.Diagnostics;
using System.Globalization;
using CustomerData.Api.Lake;
using CustomerData.Bench.Api;
using CustomerData.Cql.DevServer;
using HdrHistogram;

if (args.Length == 3 && args[0] == "--ceiling-server")
{
    await CeilingServer.RunAsync(int.Parse(args[1], CultureInfo.InvariantCulture), args[2]);
    return 0;
}

var quick = args.Contains("--quick");
var seconds = IntArg("--seconds", quick ? 5 : 60);
var duration = TimeSpan.FromSeconds(seconds);
var size = new DataSize(
    Customers: IntArg("--customers", 5_000),
    SummaryDays: IntArg("--summary-days", quick ? 60 : 730),
    MinSummaryRows: 1_000, MaxSummaryRows: 1_500,
    EventDays: IntArg("--event-days", quick ? 5 : 30),
    EventsPerDay: IntArg("--events-per-day", quick ? 50_000 : 200_000),
    RowGroupRows: 10_000);
var connectionCounts = StringArg("--connections", "20,100").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
var bareThreads = IntArg("--bare-threads", new DuckDbSettings().Connections);
var explainOnly = args.Contains("--explain-only");
var pause = TimeSpan.FromMilliseconds(20);

var work = Path.Combine(Path.GetTempPath(), $"cdp-api-bench-{Guid.NewGuid():N}");
var lake = Path.Combine(work, "lake");
Directory.CreateDirectory(lake);
void RemoveWork()
{
    if (args.Contains("--keep")) return;
    try { Directory.Delete(work, recursive: true); } catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
}
AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveWork();
AppDomain.CurrentDomain.UnhandledException += (_, _) => RemoveWork();

var root = RepositoryRoot();
var apiDll = Path.Combine(root, "Api", "bin", "Release", "net10.0", "Api.dll");
if (!File.Exists(apiDll)) throw new FileNotFoundException("Build first: dotnet build bench/Api.Bench -c Release", apiDll);

Console.WriteLine($"Api.Bench: {size.Customers:N0} customers; {size.SummaryDays} summary days ({size.FirstSummaryDay:yyyy-MM-dd}..{size.LastSummaryDay:yyyy-MM-dd}, {size.MinSummaryRows:N0}-{size.MaxSummaryRows:N0} rows a day); " +
    $"{size.EventDays} events days ({size.FirstEventDay:yyyy-MM-dd}..{size.LastEventDay:yyyy-MM-dd}) x {size.EventsPerDay:N0} events, row groups of {size.RowGroupRows:N0}; " +
    $"{seconds} s a run; {Environment.ProcessorCount} cores; load average at start {File.ReadAllText("/proc/loadavg").Trim()}");
var sw = Stopwatch.StartNew();
await BenchData.WriteLakeAsync(lake, size);
Console.WriteLine($"lake written in {sw.Elapsed.TotalSeconds:F1} s ({DirectorySizeMb(lake):N0} MB)");

using (var explainDb = new BareDuckDb(lake, size))
{
    var explain = explainDb.Explain(DataSize.SeedDay, DataSize.SeedDay, Math.Min(1166, size.Customers), Math.Min(3156, size.Customers));
    File.WriteAllText(Path.Combine(work, "explain.md"), explain);
    Console.WriteLine();
    Console.WriteLine(explain);
}
if (explainOnly)
{
    RemoveWork();
    return 0;
}

await using var cassandra = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 });
sw.Restart();
await BenchData.WriteProfilesAsync(cassandra.ConnectionString(), size.Customers);
Console.WriteLine($"{size.Customers:N0} profiles written in {sw.Elapsed.TotalSeconds:F1} s");

var apiEnvironment = new Dictionary<string, string?>(BenchToken.ApiEnvironment)
{
    ["Lake__Root"] = lake,
    ["ConnectionStrings__cassandra"] = cassandra.ConnectionString(BenchData.Keyspace),
    ["ASPNETCORE_ENVIRONMENT"] = "Production",
};
var results = new List<RunResult>();
var rss = new Dictionary<string, double>();
var seed = Mixes.Seed(size);
var allKinds = Enum.GetValues<Kind>();

// --soak SECONDS (a long run at a fixed load, RSS sampled) or --events-curve 30,90,365 (/events p99 by days spanned):
// the API as deployed, cached (issue #16).
if (args.Contains("--soak") || args.Contains("--events-curve"))
{
    await using var api = await StartApiAsync(cached: true);
    await WarmAsync(api.Port);
    var lines = args.Contains("--soak")
        ? await SoakRun.RunAsync(api, TimeSpan.FromSeconds(IntArg("--soak", 600)), connectionCounts[0], Mixes.RandomMix(size, allKinds))
        : await EventsCurve.RunAsync(api, size, [.. StringArg("--events-curve", "30,90,365").Split(',').Select(d => int.Parse(d, CultureInfo.InvariantCulture))], connectionCounts[0], duration);
    Console.WriteLine();
    foreach (var line in lines) Console.WriteLine(line);
    RemoveWork();
    return 0;
}

// --auth-cost: what authentication costs (issue #15). The same API, cached, with tokens checked (Production, as
// deployed) and with Api:Authentication:Disabled (refused in Production, so that run is Staging), alternated twice.
if (args.Contains("--auth-cost"))
{
    var authRuns = new List<(string Name, RunResult Result)>();
    for (var round = 0; round < 2; round++)
    {
        foreach (var authOn in new[] { true, false })
        {
            await using var api = await StartApiAsync(cached: true, authenticationOff: !authOn);
            await WarmAsync(api.Port);
            foreach (var (mixName, mix) in new[] { ("seed", Mixes.SeedMix(size)), ("random", Mixes.RandomMix(size, allKinds)) })
            {
                var name = $"API {mixName}, authentication {(authOn ? "on" : "off")}";
                authRuns.Add((name, await MeasureAsync(api, () => LoadGenerator.RunAsync(name, api.Port, connectionCounts[0], duration, TimeSpan.Zero, mix))));
            }
        }
    }
    Console.WriteLine();
    Console.WriteLine($"What authentication costs: {connectionCounts[0]} connections, flat out, {seconds} s a run, best of 2 rounds; load average at the end {File.ReadAllText("/proc/loadavg").Trim()}");
    Console.WriteLine();
    Console.WriteLine("| run | req/s | p50 ms | p99 ms | errors | CPU ms/req server |");
    Console.WriteLine("|---|---|---|---|---|---|");
    foreach (var group in authRuns.GroupBy(r => r.Name))
    {
        var best = group.MaxBy(r => r.Result.RequestsPerSecond).Result;
        var all = best.All;
        Console.WriteLine($"| {group.Key} | {best.RequestsPerSecond:N0} | {Ms(all.Latency.GetValueAtPercentile(50))} | {Ms(all.Latency.GetValueAtPercentile(99))} | {all.Errors} | {CpuPerRequest(best.ServerCpuSeconds, best)} |");
    }
    foreach (var mixName in new[] { "seed", "random" })
    {
        var on = authRuns.Where(r => r.Name == $"API {mixName}, authentication on").Max(r => r.Result.RequestsPerSecond);
        var off = authRuns.Where(r => r.Name == $"API {mixName}, authentication off").Max(r => r.Result.RequestsPerSecond);
        Console.WriteLine($"{mixName} mix: with authentication {on / off * 100:F0} % of the requests/s without it");
    }
    RemoveWork();
    return 0;
}

// 1. The API as deployed (lake files cached in memory).
Dictionary<string, byte[]> bodies;
await using (var api = await StartApiAsync(cached: true))
{
    await WarmAsync(api.Port);
    bodies = await SeedBodiesAsync(api.Port);
    foreach (var (mixName, mix) in new[] { ("seed", Mixes.SeedMix(size)), ("random", Mixes.RandomMix(size, allKinds)) })
    {
        foreach (var connections in connectionCounts)
        {
            foreach (var paced in new[] { false, true })
            {
                results.Add(await MeasureAsync(api, () => LoadGenerator.RunAsync($"API {mixName}", api.Port, connections, duration, paced ? pause : TimeSpan.Zero, mix)));
            }
        }
    }
    results.Add(await MeasureAsync(api, () => LoadGenerator.RunAsync("API random /events only", api.Port, connectionCounts[0], duration, TimeSpan.Zero, Mixes.RandomMix(size, Kind.Events))));
    rss["API (cached)"] = api.PeakRssMb();
}

// 2. The ceiling: the seed mix's bodies precomputed, answered by a minimal API in its own process.
var bodiesFile = Path.Combine(work, "bodies.json");
await File.WriteAllBytesAsync(bodiesFile, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(bodies));
var ceilingPort = ServerProcess.FreePort();
await using (var ceiling = await ServerProcess.StartAsync("dotnet", [typeof(BenchData).Assembly.Location, "--ceiling-server", ceilingPort.ToString(CultureInfo.InvariantCulture), bodiesFile],
    new Dictionary<string, string?>(), Path.Combine(work, "ceiling.log"), _ => new Dictionary<string, string?>(), AppContext.BaseDirectory, ceilingPort))
{
    await LoadGenerator.RunAsync("warm-up", ceiling.Port, connectionCounts[0], TimeSpan.FromSeconds(3), TimeSpan.Zero, Mixes.SeedMix(size));
    foreach (var connections in connectionCounts)
    {
        results.Add(await MeasureAsync(ceiling, () => LoadGenerator.RunAsync("ceiling seed (precomputed bodies)", ceiling.Port, connections, duration, TimeSpan.Zero, Mixes.SeedMix(size))));
    }
    rss["ceiling"] = ceiling.PeakRssMb();
}

// 3. The API uncached: every request a DuckDB query over the explicit files.
await using (var api = await StartApiAsync(cached: false))
{
    await WarmAsync(api.Port);
    foreach (var connections in connectionCounts)
    {
        results.Add(await MeasureAsync(api, () => LoadGenerator.RunAsync("API uncached random /events only", api.Port, connections, duration, TimeSpan.Zero, Mixes.RandomMix(size, Kind.Events))));
    }
    results.Add(await MeasureAsync(api, () => LoadGenerator.RunAsync("API uncached random /summary only", api.Port, connectionCounts[0], duration, TimeSpan.Zero, Mixes.RandomMix(size, Kind.SummaryDay, Kind.SummaryCustomer))));
    rss["API (uncached)"] = api.PeakRssMb();
}

// 4. Bare DuckDB.NET in this process, the same questions (same generator, same seeds) over the same files.
using (var bare = new BareDuckDb(lake, size))
{
    bare.Run("warm-up", bareThreads, TimeSpan.FromSeconds(3), Mixes.RandomMix(size, Kind.Events, Kind.SummaryDay, Kind.SummaryCustomer));
    results.Add(await MeasureAsync(null, () => Task.FromResult(bare.Run("bare DuckDB random /events only", bareThreads, duration, Mixes.RandomMix(size, Kind.Events)))));
    results.Add(await MeasureAsync(null, () => Task.FromResult(bare.Run("bare DuckDB random /summary only", bareThreads, duration, Mixes.RandomMix(size, Kind.SummaryDay, Kind.SummaryCustomer)))));
}

PrintTables();
RemoveWork();
return 0;

async Task<ServerProcess> StartApiAsync(bool cached, bool authenticationOff = false)
{
    var environment = new Dictionary<string, string?>(apiEnvironment) { ["Api__CacheLakeFiles"] = cached ? "true" : "false" };
    if (authenticationOff)
    {
        environment["Api__Authentication__Disabled"] = "true";
        environment["ASPNETCORE_ENVIRONMENT"] = "Staging";
    }
    sw.Restart();
    var server = await ServerProcess.StartAsync("dotnet", [apiDll], environment, Path.Combine(work, cached ? "api-cached.log" : "api-uncached.log"),
        port => new Dictionary<string, string?> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" }, Path.GetDirectoryName(apiDll)!);
    Console.Error.WriteLine($"API ({(cached ? "cached" : "uncached")}) pid {server.Pid} healthy on port {server.Port} after {sw.Elapsed.TotalSeconds:F1} s");
    return server;
}

// Every summary day and every events day read once (the cache loads them; uncached, DuckDB's metadata cache and the
// page cache fill), then a few seconds of each mix.
async Task WarmAsync(int port)
{
    sw.Restart();
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(10) };
    http.DefaultRequestHeaders.Authorization = new("Bearer", BenchToken.Value);
    await Parallel.ForEachAsync(Enumerable.Range(0, size.SummaryDays), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
    {
        using var r = await http.GetAsync($"/summary/{CustomerData.Lake.LakeLayout.Day(size.FirstSummaryDay.AddDays(i))}", ct);
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"warm-up: summary day {i} answered {(int)r.StatusCode}");
    });
    using (var r = await http.GetAsync("/events/1?limit=10000")) r.EnsureSuccessStatusCode();
    await LoadGenerator.RunAsync("warm-up", port, connectionCounts[0], TimeSpan.FromSeconds(3), TimeSpan.Zero, Mixes.SeedMix(size));
    await LoadGenerator.RunAsync("warm-up", port, connectionCounts[0], TimeSpan.FromSeconds(3), TimeSpan.Zero, Mixes.RandomMix(size, allKinds));
    Console.Error.WriteLine($"warmed in {sw.Elapsed.TotalSeconds:F1} s");
}

async Task<Dictionary<string, byte[]>> SeedBodiesAsync(int port)
{
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    http.DefaultRequestHeaders.Authorization = new("Bearer", BenchToken.Value);
    var result = new Dictionary<string, byte[]>();
    foreach (var request in seed)
    {
        using var response = await http.GetAsync(request.Path);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{request.Path} answered {(int)response.StatusCode}");
        result[request.Path] = await response.Content.ReadAsByteArrayAsync();
        Console.Error.WriteLine($"{request.Path}: {result[request.Path].Length:N0} bytes");
    }
    return result;
}

async Task<RunResult> MeasureAsync(ServerProcess? server, Func<Task<RunResult>> run)
{
    var serverCpu = server?.CpuSeconds();
    var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
    var result = await run();
    result.ClientCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalSeconds;
    if (server is not null) result.ServerCpuSeconds = server.CpuSeconds() - serverCpu;
    return Report(result);
}

RunResult Report(RunResult r)
{
    Console.Error.WriteLine($"{r.Name}, {r.Connections} {(r.Name.StartsWith("bare", StringComparison.Ordinal) ? "threads" : "connections")}, {(r.Paced ? "paced" : "flat out")}: " +
        $"{r.RequestsPerSecond:N0} req/s, p99 {Ms(r.All.Latency.GetValueAtPercentile(99))} ms, errors {r.Errors}, load {r.LoadAverage:F2}, CPU ms/request server {CpuPerRequest(r.ServerCpuSeconds, r)} client {CpuPerRequest(r.ClientCpuSeconds, r)}");
    return r;
}

void PrintTables()
{
    Console.WriteLine();
    Console.WriteLine($"API benchmark: {seconds} s a run, {Environment.ProcessorCount} cores (shared), load average at the end {File.ReadAllText("/proc/loadavg").Trim()}");
    Console.WriteLine();
    Console.WriteLine("| run | conns | pacing | req/s | endpoint | share | p50 ms | p90 ms | p99 ms | max ms | 2xx | 404 | errors | load avg | CPU ms/req server / client |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    foreach (var r in results)
    {
        var pacing = r.Paced ? "20 ms" : "flat";
        var conns = r.Name.StartsWith("bare", StringComparison.Ordinal) ? $"{r.Connections} thr" : r.Connections.ToString(CultureInfo.InvariantCulture);
        var kinds = allKinds.Where(k => r.Kinds[(int)k].Latency.TotalCount > 0).ToList();
        foreach (var k in kinds)
        {
            Console.WriteLine($"| {r.Name} | {conns} | {pacing} | {r.Kinds[(int)k].Latency.TotalCount / r.Elapsed.TotalSeconds:N0} | {KindName(k)} | {r.Kinds[(int)k].Latency.TotalCount * 100.0 / r.Requests:F0} % | {Row(r.Kinds[(int)k])} | | |");
        }
        var cpu = $"{CpuPerRequest(r.ServerCpuSeconds, r)} / {CpuPerRequest(r.ClientCpuSeconds, r)}";
        if (kinds.Count > 1) Console.WriteLine($"| {r.Name} | {conns} | {pacing} | **{r.RequestsPerSecond:N0}** | **all** | | {Row(r.All)} | {r.LoadAverage:F2} | {cpu} |");
        else Console.WriteLine($"| {r.Name} | {conns} | {pacing} | **{r.RequestsPerSecond:N0}** | **all** | | | | | | | | | {r.LoadAverage:F2} | {cpu} |");
    }
    Console.WriteLine();
    Console.WriteLine("Peak RSS (VmHWM): " + string.Join(", ", rss.Select(kv => $"{kv.Key} {kv.Value:N0} MB")));

    // §8 side by side: the original (k6, 20 virtual users, 10 minutes) and ours at 20 connections.
    var first = connectionCounts[0];
    var seedFlat = Find("API seed", first, false);
    var seedPaced = Find("API seed", first, true);
    Console.WriteLine();
    Console.WriteLine($"| request | original (§8): avg / p90 / p99 / max ms | ours, seed mix {first} conns paced: p50 / p90 / p99 / max ms | ours, flat out: p50 / p90 / p99 / max ms |");
    Console.WriteLine("|---|---|---|---|");
    string[] original = ["161 / 3 / 8,441 / 12,943", "23 / 4 / 1,045 / 3,040", "13 / 2 / 565 / 1,063", "3 / 3 / 15 / 386"];
    for (var i = 0; i < seed.Length; i++)
    {
        Console.WriteLine($"| GET {seed[i].Path} | {original[i]} | {Short(seedPaced?.Kinds[(int)seed[i].Kind])} | {Short(seedFlat?.Kinds[(int)seed[i].Kind])} |");
    }
    Console.WriteLine($"| all | 65.93 req/s, 0 % errors | {seedPaced?.RequestsPerSecond:N0} req/s, {seedPaced?.Errors} errors | {seedFlat?.RequestsPerSecond:N0} req/s, {seedFlat?.Errors} errors |");

    // Goals (20 connections).
    var randomFlat = Find("API random", first, false);
    var ceiling = Find("ceiling seed (precomputed bodies)", first, false);
    var uncachedEvents = Find("API uncached random /events only", first, false);
    var bareEvents = results.FirstOrDefault(r => r.Name == "bare DuckDB random /events only");
    Console.WriteLine();
    Console.WriteLine($"| goal ({first} connections) | measured | met? |");
    Console.WriteLine("|---|---|---|");
    if (seedFlat is not null) Console.WriteLine($"| seed mix flat out ≥ 5,000 req/s, 0 errors | {seedFlat.RequestsPerSecond:N0} req/s, {seedFlat.Errors} errors | {Met(seedFlat.RequestsPerSecond >= 5_000 && seedFlat.Errors == 0)} |");
    if (seedPaced is not null)
    {
        var worst = allKinds.Max(k => seedPaced.Kinds[(int)k].Latency.GetValueAtPercentile(99));
        Console.WriteLine($"| seed mix paced: p99 ≤ 10 ms on every endpoint | worst p99 {Ms(worst)} ms | {Met(worst <= 10_000)} |");
    }
    if (randomFlat is not null)
    {
        var p99 = randomFlat.All.Latency.GetValueAtPercentile(99);
        Console.WriteLine($"| random mix flat out ≥ 1,000 req/s, p99 ≤ 50 ms | {randomFlat.RequestsPerSecond:N0} req/s, p99 {Ms(p99)} ms, {randomFlat.Errors} errors | {Met(randomFlat.RequestsPerSecond >= 1_000 && p99 <= 50_000)} |");
    }
    if (seedFlat is not null && ceiling is not null)
    {
        Console.WriteLine($"| seed mix ≥ 50 % of the ceiling (precomputed bodies, same HTTP) | {seedFlat.RequestsPerSecond:N0} / {ceiling.RequestsPerSecond:N0} = {seedFlat.RequestsPerSecond / ceiling.RequestsPerSecond:P0} | {Met(seedFlat.RequestsPerSecond >= 0.5 * ceiling.RequestsPerSecond)} |");
    }
    if (uncachedEvents is not null && bareEvents is not null)
    {
        var ratio = bareEvents.RequestsPerSecond / uncachedEvents.RequestsPerSecond;
        Console.WriteLine($"| uncached /events within 1.3x of bare DuckDB ({bareThreads} threads = the API's pool) | bare {bareEvents.RequestsPerSecond:N0} req/s (p50 {Ms(bareEvents.All.Latency.GetValueAtPercentile(50))} ms) vs API {uncachedEvents.RequestsPerSecond:N0} req/s (p50 {Ms(uncachedEvents.All.Latency.GetValueAtPercentile(50))} ms): {ratio:F2}x | {Met(ratio <= 1.3)} |");
    }
}

RunResult? Find(string name, int connections, bool paced) => results.FirstOrDefault(r => r.Name == name && r.Connections == connections && r.Paced == paced);

static string CpuPerRequest(double? seconds, RunResult r) => seconds is { } s ? (s * 1000 / Math.Max(1, r.Requests)).ToString("F3", CultureInfo.InvariantCulture) : "-";

static string Met(bool met) => met ? "met" : "**missed**";

static string Row(KindStats k) =>
    $"{Ms(k.Latency.GetValueAtPercentile(50))} | {Ms(k.Latency.GetValueAtPercentile(90))} | {Ms(k.Latency.GetValueAtPercentile(99))} | {Ms(k.Latency.GetMaxValue())} | {k.Ok:N0} | {k.NotFound:N0} | {k.Errors:N0}";

static string Short(KindStats? k) => k is null ? "-" :
    $"{Ms(k.Latency.GetValueAtPercentile(50))} / {Ms(k.Latency.GetValueAtPercentile(90))} / {Ms(k.Latency.GetValueAtPercentile(99))} / {Ms(k.Latency.GetMaxValue())}";

static string Ms(long micros) => micros < 10_000 ? (micros / 1000.0).ToString("F2", CultureInfo.InvariantCulture) : (micros / 1000.0).ToString("N0", CultureInfo.InvariantCulture);

static string KindName(Kind k) => k switch
{
    Kind.Events => "/events/{id}",
    Kind.SummaryDay => "/summary/{date}",
    Kind.SummaryCustomer => "/summary/{date}/{id}",
    _ => "/customer/{id}",
};

static double DirectorySizeMb(string folder) => new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) / 1024.0 / 1024.0;

static string RepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "aspire.sln"))) return dir.FullName;
    }
    throw new InvalidOperationException("aspire.sln not found above " + AppContext.BaseDirectory);
}

int IntArg(string name, int fallback) => int.TryParse(StringArg(name, ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

string StringArg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
