using System.Globalization;

namespace CustomerData.Bench.Api;

/// <summary>
/// The soak (issue #16): the API as deployed at a fixed load (20 connections, each pausing 20 ms after every answer, the
/// random mix) for a long run, in 10 s slices with the server's resident set (VmRSS) read after each; the first minute is
/// warm-up. Goal: 0 errors, and the resident set at the end within 10 % of the one after warm-up.
/// </summary>
public static class SoakRun
{
    private static readonly TimeSpan Slice = TimeSpan.FromSeconds(10);

    public static async Task<List<string>> RunAsync(ServerProcess api, TimeSpan duration, int connections, Func<int, Func<BenchRequest>> mix)
    {
        var samples = new List<(double At, double RssMb, RunResult Slice)>();
        var started = DateTime.UtcNow;
        for (var at = Slice; at <= duration; at += Slice)
        {
            var slice = await LoadGenerator.RunAsync("soak", api.Port, connections, Slice, TimeSpan.FromMilliseconds(20), mix);
            samples.Add((at.TotalSeconds, api.RssMb(), slice));
            Console.Error.WriteLine($"soak {at.TotalSeconds:F0} s: {slice.RequestsPerSecond:N0} req/s, errors {slice.Errors}, RSS {samples[^1].RssMb:N0} MB");
        }
        var warm = samples.FirstOrDefault(s => s.At >= 60);
        if (warm.Slice is null) warm = samples[0];
        var end = samples[^1];
        var afterWarm = samples.Where(s => s.At >= warm.At).ToList();
        var requests = samples.Sum(s => s.Slice.Requests);
        var errors = samples.Sum(s => s.Slice.Errors);
        var growth = (end.RssMb - warm.RssMb) / warm.RssMb;
        var worst = samples.Max(s => s.Slice.All.Latency.GetValueAtPercentile(99));
        var lines = new List<string>
        {
            $"API soak: {duration.TotalSeconds:F0} s from {started:yyyy-MM-dd HH:mm} UTC, {connections} connections paced 20 ms, random mix (all four endpoints), " +
            $"RSS (VmRSS) every 10 s, warm-up the first {warm.At:F0} s; load average at the end {File.ReadAllText("/proc/loadavg").Trim()}",
            "",
            "| minute | req/s | errors | p99 ms (worst 10 s slice) | RSS MB at the end |",
            "|---|---|---|---|---|",
        };
        foreach (var minute in samples.GroupBy(s => (int)Math.Ceiling(s.At / 60)))
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {minute.Key} | {minute.Sum(s => s.Slice.Requests) / minute.Sum(s => s.Slice.Elapsed.TotalSeconds):N0} | {minute.Sum(s => s.Slice.Errors)} | {minute.Max(s => s.Slice.All.Latency.GetValueAtPercentile(99)) / 1000.0:F2} | {minute.Last().RssMb:N0} |"));
        }
        lines.Add("");
        lines.Add("| goal | measured | met? |");
        lines.Add("|---|---|---|");
        lines.Add($"| 0 errors | {errors:N0} errors in {requests:N0} requests | {(errors == 0 ? "met" : "**missed**")} |");
        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"| RSS growth after warm-up ≤ 10 % | {warm.RssMb:N0} MB at {warm.At:F0} s → {end.RssMb:N0} MB at {end.At:F0} s = {growth:+0.0 %;-0.0 %}; highest after warm-up {afterWarm.Max(s => s.RssMb):N0} MB | {(growth <= 0.10 ? "met" : "**missed**")} |"));
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"| (p99 of the worst 10 s slice) | {worst / 1000.0:F2} ms | |"));
        return lines;
    }
}
