using System.Net;
using System.Text.Json;
using CustomerData.Lake;
using CustomerData.Pipelines.Events;

namespace CustomerData.Api.Tests;

/// <summary>
/// <c>/events</c> over a lake as Pipeline C leaves it (batch files, a compacted day whose replaced batch files are still
/// there within the grace period) equals an independent computation over the events written, in memory and straight
/// through DuckDB alike.
/// </summary>
public sealed class EventsReadTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Events_equal_an_independent_computation_over_batch_and_compacted_days(bool cached)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Api:CacheLakeFiles"] = cached ? "true" : "false" });
        var events = TestEvents.Generate(6_000, customers: 40, days: 4, seed: 7);
        var byDay = events.GroupBy(e => e.EventDate).OrderBy(g => g.Key).ToList();
        // Every day as three batch files (offset order); the first day is then compacted with its batch files replaced but not yet deleted.
        long offset = 0;
        var keysOfFirstDay = new List<string>();
        foreach (var day in byDay)
        {
            foreach (var chunk in day.Chunk(day.Count() / 3 + 1))
            {
                var key = await host.Lake.WriteBatchAsync(day.Key, chunk, offset);
                offset += chunk.Length;
                if (day.Key == byDay[0].Key) keysOfFirstDay.Add(key);
            }
        }
        await host.Lake.CompactAsync(byDay[0].Key, byDay[0].ToList(), generation: 1, replaced: keysOfFirstDay, rowGroupRows: 100);
        await host.WaitForLakeListingAsync(s => s.EventDays.Count == byDay.Count && s.EventDays[byDay[0].Key].Count == 1);

        var days = byDay.Select(d => d.Key).ToList();
        var cases = new List<(int Customer, DateOnly? From, DateOnly? To, int Limit)>();
        for (var customer = 1; customer <= 40; customer += 3)
        {
            cases.Add((customer, null, null, 100));
            cases.Add((customer, days[1], days[2], 10_000));
            cases.Add((customer, days[0], days[0], 3));
            cases.Add((customer, null, days[1], 7));
            cases.Add((customer, days[2], null, 10_000));
        }
        foreach (var (customer, from, to, limit) in cases)
        {
            var query = string.Join('&', new[] { from is { } f ? $"fromDate={f:yyyy-MM-dd}" : null, to is { } t ? $"toDate={t:yyyy-MM-dd}" : null, $"limit={limit}" }.Where(x => x is not null));
            var response = await host.Client.GetAsync($"/events/{customer}?{query}", ct);
            var expected = TestEvents.Expected(events, customer, from, to, limit);
            if (expected.Count == 0)
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                continue;
            }
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(expected, Parse(await response.Content.ReadAsStringAsync(ct)));
        }
    }

    [Fact]
    public async Task A_reader_during_repeated_compactions_and_clean_ups_never_sees_an_event_twice_or_misses_one()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Api:RefreshInterval"] = "00:00:00.050" });
        var events = TestEvents.Generate(3_000, customers: 5, days: 1, seed: 11);
        var day = events[0].EventDate;
        events = events.Where(e => e.EventDate == day).ToList();
        var expected = TestEvents.Expected(events, 3, null, null, 10_000);
        var batches = new List<string>();
        long offset = 0;
        foreach (var chunk in events.Chunk(300))
        {
            batches.Add(await host.Lake.WriteBatchAsync(day, chunk, offset));
            offset += chunk.Length;
        }
        await host.WaitForLakeListingAsync(s => s.EventDays.TryGetValue(day, out var f) && f.Count == batches.Count);

        using var stop = new CancellationTokenSource();
        var reads = 0;
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var response = await host.Client.GetAsync("/events/3?limit=10000", ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(expected, Parse(await response.Content.ReadAsStringAsync(ct)));
                reads++;
            }
        }, ct);
        // Generation g compacts everything again; the files it replaced are deleted right after the switch (no grace),
        // the harshest case for a reader holding an older listing.
        var live = batches;
        for (var generation = 1; generation <= 6; generation++)
        {
            await host.Lake.CompactAsync(day, events, generation, live);
            foreach (var key in live) await host.Lake.Storage.DeleteAsync(key, ct);
            if (generation > 1) await host.Lake.Storage.DeleteAsync(LakeLayout.EventsPartition(day) + EventFileNames.ManifestFile(generation - 1), ct);
            live = [LakeLayout.EventsPartition(day) + EventFileNames.CompactedFile(generation, "t" + generation, 0)];
            await Task.Delay(150, ct);
        }
        stop.Cancel();
        await reader;
        Assert.True(reads > 5, $"only {reads} reads ran during the compactions");
    }

    internal static List<string> Parse(string body)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("data").GetProperty("events").EnumerateArray()
            .Select(e => string.Join('|',
                e.GetProperty("date").GetString(), e.GetProperty("event_id").GetString(), e.GetProperty("customer_id").GetInt32(),
                e.GetProperty("event_type").GetString(), e.GetProperty("product_id").ValueKind == JsonValueKind.Null ? "" : e.GetProperty("product_id").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
                e.GetProperty("event_timestamp").GetString(), e.GetProperty("ingestion_timestamp").GetString()))
            .ToList();
    }
}
