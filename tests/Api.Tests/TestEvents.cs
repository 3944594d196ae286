using CustomerData.Api.Contract;
using CustomerData.Pipelines.Events;

namespace CustomerData.Api.Tests;

/// <summary>Random events for a few customers over a few days, and the answer an independent computation expects.</summary>
public static class TestEvents
{
    public static readonly DateOnly FirstDay = new(2025, 11, 1);
    private static readonly string[] s_types = ["WISHLIST", "LIKE", "CART_ADD"];

    public static List<LakeEvent> Generate(int count, int customers, int days, int seed)
    {
        var random = new Random(seed);
        var start = FirstDay.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var events = new List<LakeEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var at = start.AddTicks((long)(random.NextDouble() * days * TimeSpan.TicksPerDay) / 10 * 10); // whole microseconds
            // A few events share a timestamp so the event_id tie-break is exercised.
            if (i > 0 && random.Next(10) == 0) at = events[^1].EventTimestamp;
            events.Add(new LakeEvent(Guid.NewGuid().ToString("D"), 1 + random.Next(customers), s_types[random.Next(3)],
                random.Next(5) == 0 ? null : 1 + random.Next(500), at, at.AddSeconds(1 + random.Next(5))));
        }
        return events;
    }

    /// <summary>SPEC §7/§9: the customer's events in the inclusive range, by event_timestamp then event_id, at most limit.</summary>
    public static List<string> Expected(IEnumerable<LakeEvent> events, int customerId, DateOnly? from, DateOnly? to, int limit) =>
        events.Where(e => e.CustomerId == customerId && (from is null || e.EventDate >= from) && (to is null || e.EventDate <= to))
            .OrderBy(e => e.EventTimestamp).ThenBy(e => e.EventId, StringComparer.Ordinal)
            .Take(limit)
            .Select(e => $"{e.EventDate:yyyy-MM-dd}|{e.EventId}|{e.CustomerId}|{e.EventType}|{e.ProductId}|{InstantJsonConverter.Format(e.EventTimestamp)}|{InstantJsonConverter.Format(e.IngestionTimestamp)}")
            .ToList();
}
