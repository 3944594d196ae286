using System.Globalization;
using CustomerData.Lake;

namespace CustomerData.Bench.Api;

/// <summary>
/// How /events grows with the days it spans (issue #16): one customer's events over the last N days of the lake
/// (<c>fromDate</c> = last day - N + 1, <c>toDate</c> = last day, limit 100), random customers, 20 connections paced 20 ms
/// (as the §8 load test), for each N; p99 per day of range is the per-unit cost.
/// </summary>
public static class EventsCurve
{
    public static async Task<List<string>> RunAsync(ServerProcess api, DataSize size, int[] dayRanges, int connections, TimeSpan duration)
    {
        var rows = new List<(int Days, RunResult Result)>();
        foreach (var days in dayRanges.Where(d => d <= size.EventDays))
        {
            var from = size.LastEventDay.AddDays(-(days - 1));
            Func<int, Func<BenchRequest>> mix = connection =>
            {
                var random = new Random(3_000 + connection);
                return () =>
                {
                    var customer = random.Next(1, size.Customers + 1);
                    return new BenchRequest(Kind.Events, $"/events/{customer}?fromDate={LakeLayout.Day(from)}&toDate={LakeLayout.Day(size.LastEventDay)}&limit=100",
                        customer, default, from, size.LastEventDay, 100);
                };
            };
            await LoadGenerator.RunAsync("warm-up", api.Port, connections, TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20), mix);
            var result = await LoadGenerator.RunAsync($"/events over {days} days", api.Port, connections, duration, TimeSpan.FromMilliseconds(20), mix);
            rows.Add((days, result));
            Console.Error.WriteLine($"/events over {days} days: {result.RequestsPerSecond:N0} req/s, p99 {result.All.Latency.GetValueAtPercentile(99) / 1000.0:F2} ms, errors {result.Errors}");
        }
        var lines = new List<string>
        {
            $"/events cost curve: a lake of {size.EventDays} compacted event days × {size.EventsPerDay:N0} events, {size.Customers:N0} customers; " +
            $"{connections} connections paced 20 ms, {duration.TotalSeconds:F0} s a size; load average at the end {File.ReadAllText("/proc/loadavg").Trim()}",
            "",
            "| days in the range | events scanned | req/s | p50 ms | p99 ms | p99 per day, µs | errors |",
            "|---|---|---|---|---|---|---|",
        };
        foreach (var (days, r) in rows)
        {
            var p99 = r.All.Latency.GetValueAtPercentile(99);
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {days} | {(long)days * size.EventsPerDay:N0} | {r.RequestsPerSecond:N0} | {r.All.Latency.GetValueAtPercentile(50) / 1000.0:F2} | {p99 / 1000.0:F2} | {(double)p99 / days:F0} | {r.Errors} |"));
        }
        if (rows.Count >= 2)
        {
            var first = (double)rows[0].Result.All.Latency.GetValueAtPercentile(99) / rows[0].Days;
            var last = (double)rows[^1].Result.All.Latency.GetValueAtPercentile(99) / rows[^1].Days;
            lines.Add("");
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"p99 per day at {rows[^1].Days} days / at {rows[0].Days} days: {last / first:F2}× (goal: within 1.3× of flat); the whole p99 grew {rows[^1].Result.All.Latency.GetValueAtPercentile(99) / (double)rows[0].Result.All.Latency.GetValueAtPercentile(99):F2}× for {rows[^1].Days / (double)rows[0].Days:F1}× the days."));
        }
        return lines;
    }
}
