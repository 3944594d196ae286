using System.Diagnostics;
using CustomerData.Bench.Profile;
using CustomerData.Contracts;
using CustomerData.Pipelines.Profile;
using CustomerData.TestServers;
using MySqlConnector;

var cs = "Server=127.0.0.1;Port=33999;User ID=platform;Password=pw;Database=bench;AllowLoadLocalInfile=true";
await SourceSchema.ApplyAsync(cs);
var sw = Stopwatch.StartNew();
if (args.Contains("--load")) { await BenchData.LoadAsync(cs, 5000, 300, 1_000_000, 42);
Console.WriteLine($"load {sw.ElapsedMilliseconds} ms"); return; }
await using var ds = new MySqlDataSource(cs);
var src = new MySqlProfileSource(ds, new ProfileOptions());
sw.Restart();
await src.ApplySourceSchemaAsync(default);
Console.WriteLine($"schema+index {sw.ElapsedMilliseconds} ms");
for (int i = 0; i < 2; i++)
{
    sw.Restart();
    var all = await src.AggregateAllAsync(null, default);
    Console.WriteLine($"aggregate all: {all.Count} customers {sw.ElapsedMilliseconds} ms");
}
{
    await using var c = await src.OpenAsync(default);
    sw.Restart();
    var d = await MySqlProfileSource.ReadDeltaAsync(c, 0, false, new DataQualityReport(5), default);
    Console.WriteLine($"delta from 0: {d.TxnIds.Count} {sw.ElapsedMilliseconds} ms");
    sw.Restart();
    d = await MySqlProfileSource.ReadDeltaAsync(c, 999_000, true, new DataQualityReport(5), default);
    Console.WriteLine($"delta 1000: {d.Customers.Count} {sw.ElapsedMilliseconds} ms");
    sw.Restart();
    var agg = await src.AggregateCustomersAsync(d.Customers.ToList(), default);
    Console.WriteLine($"aggregate touched: {agg.Count} {sw.ElapsedMilliseconds} ms");
    sw.Restart();
    agg = await src.AggregateCustomersAsync(d.Customers.ToList(), default);
    Console.WriteLine($"aggregate touched again: {agg.Count} {sw.ElapsedMilliseconds} ms");
}
