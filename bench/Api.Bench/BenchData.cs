using System.Globalization;
using CustomerData.Cql;
using CustomerData.Lake;
using CustomerData.Pipelines.Events;
using CustomerData.Pipelines.Summary;
using Parquet;

namespace CustomerData.Bench.Api;

/// <summary>Sizes of the generated data set.</summary>
public sealed record DataSize(int Customers, int SummaryDays, int MinSummaryRows, int MaxSummaryRows, int EventDays, int EventsPerDay, int RowGroupRows)
{
    /// <summary>The seed mix's day (§8): the last events day, and inside the summary days.</summary>
    public static readonly DateOnly SeedDay = new(2025, 12, 10);

    /// <summary>Summary days end three weeks after the seed day, so 2025-12-10 is well inside them.</summary>
    public DateOnly LastSummaryDay => SeedDay.AddDays(Math.Min(21, SummaryDays / 2));
    public DateOnly FirstSummaryDay => LastSummaryDay.AddDays(-(SummaryDays - 1));
    public DateOnly LastEventDay => SeedDay;
    public DateOnly FirstEventDay => SeedDay.AddDays(-(EventDays - 1));
}

/// <summary>The lake as the pipelines leave it (Pipeline B's day files, Pipeline C's compacted days) and the profile table.</summary>
public static class BenchData
{
    public const string Keyspace = "customer_data";
    private static readonly string[] Categories = ["Electronics", "Grocery", "Sports", "Toys", "Health", "Beauty", "Home"];
    private static readonly string[] EventTypes = ["PAGE_VIEW", "PRODUCT_VIEW", "CART_ADD", "CART_REMOVE", "WISHLIST_ADD", "LIKE", "SEARCH", "PURCHASE"];

    public static async Task WriteLakeAsync(string folder, DataSize size)
    {
        var storage = new LocalFolderLakeStorage(folder);
        var summaryDays = Enumerable.Range(0, size.SummaryDays).Select(i => size.FirstSummaryDay.AddDays(i)).ToList();
        await Parallel.ForEachAsync(summaryDays, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (day, ct) =>
        {
            var random = new Random(day.DayNumber);
            var count = random.Next(size.MinSummaryRows, size.MaxSummaryRows + 1);
            var ids = new HashSet<int>();
            // The seed mix asks for customer 3156 on 2025-12-10 (§8).
            if (day == DataSize.SeedDay) ids.Add(Math.Min(3156, size.Customers));
            while (ids.Count < count) ids.Add(random.Next(1, size.Customers + 1));
            var rows = ids.Order().Select(c =>
            {
                var items = random.Next(1, 12);
                return new DailySummary(c, Math.Round((decimal)(random.NextDouble() * 60_000), 2), items, random.Next(1, items + 1),
                    Categories[random.Next(Categories.Length)], random.Next(1, 6));
            }).ToList();
            await storage.PublishAsync(LakeLayout.SummaryFile(day), await SummaryParquet.WriteAsync(rows, CompressionMethod.Snappy, ct), ct);
        });

        var eventDays = Enumerable.Range(0, size.EventDays).Select(i => size.FirstEventDay.AddDays(i)).ToList();
        await Parallel.ForEachAsync(eventDays, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (day, ct) =>
        {
            var random = new Random(day.DayNumber * 7);
            var midnight = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            var events = new LakeEvent[size.EventsPerDay];
            var guid = new byte[16];
            for (var i = 0; i < events.Length; i++)
            {
                random.NextBytes(guid);
                guid[7] = (byte)((guid[7] & 0x0F) | 0x40); // a version-4-looking UUID, as the producer sends
                var at = midnight.AddTicks(random.NextInt64(TimeSpan.TicksPerDay) / 10 * 10);
                events[i] = new LakeEvent(new Guid(guid).ToString("D"), random.Next(1, size.Customers + 1), EventTypes[random.Next(EventTypes.Length)],
                    random.Next(10) == 0 ? null : random.Next(1, 500), at, at.AddMilliseconds(random.Next(200, 9_000)));
            }
            // Pipeline C's compacted file: sorted by customer_id, event_timestamp, event_id; row groups of 10,000.
            Array.Sort(events, (a, b) =>
            {
                var c = a.CustomerId.CompareTo(b.CustomerId);
                if (c != 0) return c;
                c = a.EventTimestamp.CompareTo(b.EventTimestamp);
                return c != 0 ? c : string.CompareOrdinal(a.EventId, b.EventId);
            });
            var name = EventFileNames.CompactedFile(1, "bench", 0);
            await storage.PublishAsync(LakeLayout.EventsPartition(day) + name, await EventParquet.WriteEventsAsync(events, size.RowGroupRows, cancellationToken: ct), ct);
            var manifest = new CompactionManifest(1, DateTime.UtcNow, [name], [], events.Length);
            await storage.PublishAsync(LakeLayout.EventsPartition(day) + EventFileNames.ManifestFile(1), manifest.ToJson(), ct);
        });
    }

    /// <summary>The compacted file of an events day (the only file of the day).</summary>
    public static string EventsFile(string lake, DateOnly day) =>
        Path.Combine(lake, LakeLayout.EventsPartition(day) + EventFileNames.CompactedFile(1, "bench", 0));

    public static string SummaryFile(string lake, DateOnly day) => Path.Combine(lake, LakeLayout.SummaryFile(day));

    /// <summary>The table of ApiHost (tests) and a profile per customer, as Pipeline A writes them.</summary>
    public static async Task WriteProfilesAsync(string connectionString, int customers)
    {
        await using var session = await CqlSession.ConnectAsync(connectionString);
        await session.ExecuteAsync($"CREATE KEYSPACE IF NOT EXISTS {Keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}");
        await session.ExecuteAsync($"CREATE TABLE IF NOT EXISTS {Keyspace}.customer_profile (customer_id int PRIMARY KEY, name text, email text, gender text, " +
            "total_spend decimal, total_transactions int, avg_order_value decimal, first_purchase timestamp, last_purchase timestamp, favorite_category text)");
        var insert = await session.PrepareAsync(
            $"INSERT INTO {Keyspace}.customer_profile (customer_id, name, email, gender, total_spend, total_transactions, avg_order_value, first_purchase, last_purchase, favorite_category) " +
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        await Parallel.ForEachAsync(Enumerable.Range(1, customers), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (c, ct) =>
        {
            var random = new Random(c);
            var transactions = random.Next(1, 40);
            var spend = Math.Round((decimal)(random.NextDouble() * 150_000), 2);
            var first = new DateTimeOffset(2022, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 500_000));
            await session.ExecuteAsync(insert,
            [
                c, string.Create(CultureInfo.InvariantCulture, $"Customer_{c}"), string.Create(CultureInfo.InvariantCulture, $"customer_{c}@example.com"),
                "MFO"[c % 3].ToString(), spend, transactions, Math.Round(spend / transactions, 2), first, first.AddMinutes(random.Next(0, 900_000)),
                Categories[c % Categories.Length],
            ], cancellationToken: ct);
        });
    }
}

/// <summary>The request mixes.</summary>
public static class Mixes
{
    /// <summary>§8's four fixed requests.</summary>
    public static BenchRequest[] Seed(DataSize size) =>
    [
        new(Kind.Events, $"/events/{Math.Min(1166, size.Customers)}?limit=100", Math.Min(1166, size.Customers), default, null, null, 100),
        new(Kind.SummaryDay, "/summary/2025-12-10", 0, DataSize.SeedDay, null, null, 0),
        new(Kind.SummaryCustomer, $"/summary/2025-12-10/{Math.Min(3156, size.Customers)}", Math.Min(3156, size.Customers), DataSize.SeedDay, null, null, 0),
        new(Kind.Customer, $"/customer/{Math.Min(456, size.Customers)}", Math.Min(456, size.Customers), default, null, null, 0),
    ];

    /// <summary>The seed mix in equal shares: each connection cycles through the four, starting at its own.</summary>
    public static Func<int, Func<BenchRequest>> SeedMix(DataSize size)
    {
        var seed = Seed(size);
        return connection =>
        {
            var i = connection;
            return () => seed[i++ % seed.Length];
        };
    }

    /// <summary>The four kinds over random customers and days (kinds: which of them, in equal shares).</summary>
    public static Func<int, Func<BenchRequest>> RandomMix(DataSize size, params Kind[] kinds) => connection =>
    {
        var random = new Random(1_000 + connection);
        return () => Random(random, size, kinds[random.Next(kinds.Length)]);
    };

    public static BenchRequest Random(Random random, DataSize size, Kind kind)
    {
        var customer = random.Next(1, size.Customers + 1);
        switch (kind)
        {
            case Kind.SummaryDay:
            {
                var day = size.FirstSummaryDay.AddDays(random.Next(size.SummaryDays));
                return new(kind, $"/summary/{LakeLayout.Day(day)}", 0, day, null, null, 0);
            }
            case Kind.SummaryCustomer:
            {
                var day = size.FirstSummaryDay.AddDays(random.Next(size.SummaryDays));
                return new(kind, $"/summary/{LakeLayout.Day(day)}/{customer}", customer, day, null, null, 0);
            }
            case Kind.Customer:
                return new(kind, $"/customer/{customer}", customer, default, null, null, 0);
            default:
            {
                // A third without dates, a third with both (1 to 7 days), a sixth with only fromDate, a sixth with only toDate.
                DateOnly? from = null, to = null;
                var shape = random.Next(6);
                var a = size.FirstEventDay.AddDays(random.Next(size.EventDays));
                if (shape is 2 or 3)
                {
                    from = a;
                    to = a.AddDays(random.Next(7));
                }
                else if (shape == 4) from = a;
                else if (shape == 5) to = a;
                // limit: the default (100) half the time, else 10 or 50.
                var limitChoice = random.Next(4);
                var limit = limitChoice switch { 0 => 10, 1 => 50, _ => 100 };
                var query = new List<string>();
                if (from is { } f) query.Add("fromDate=" + LakeLayout.Day(f));
                if (to is { } t) query.Add("toDate=" + LakeLayout.Day(t));
                if (limitChoice < 2) query.Add("limit=" + limit.ToString(CultureInfo.InvariantCulture));
                var path = $"/events/{customer}" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
                return new(kind, path, customer, default, from, to, limit);
            }
        }
    }
}
