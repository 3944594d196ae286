using CustomerData.Lake;
using System.Globalization;
using CustomerData.Contracts;
using Microsoft.Extensions.Time.Testing;

namespace CustomerData.Pipelines.Summary.Tests;

/// <summary>Pipeline B against real MariaDB and a real lake: a local folder and S3 (s3rver).</summary>
public sealed class SummaryPipelineTests(MariaDbFixture mariaDb, S3rverFixture s3)
{
    public static TheoryData<string> Backends => ["local", "s3"];
    private static readonly DateOnly Day0 = new(2025, 12, 1);

    private Task<TestBed> BedAsync(string backend) => TestBed.CreateAsync(mariaDb.Server, s3.Server, backend, TestContext.Current.CancellationToken);

    private static string Glob(string root, string table) => LakeLayout.Glob(root, table).Replace("'", "''", StringComparison.Ordinal);

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Summaries_equal_an_independent_sql_computation_for_every_day_and_customer(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync(backend);
        await bed.InsertAsync(bed.RandomValid(1500, Day0, 10, seed: 1), ct);
        // Explicit edge cases on a day of their own: a 1-1 tie goes to the ordinal-first name
        // ("Electronics" < "Toys"), and products without a category count as "Unknown".
        var edge = Day0.AddDays(20).ToDateTime(new TimeOnly(12, 0));
        await bed.InsertAsync([bed.Valid(1, 3, 1, edge), bed.Valid(1, 6, 2, edge.AddMinutes(1)), bed.Valid(2, 11, 1, edge), bed.Valid(2, 12, 1, edge), bed.Valid(2, 6, 1, edge)], ct);
        // A transaction at 23:59:59 and one at 00:00:00 fall on different UTC days.
        await bed.InsertAsync([bed.Valid(3, 1, 1, edge.Date.AddSeconds(-1)), bed.Valid(3, 1, 1, edge.Date)], ct);
        var lake = bed.NewLake();

        var result = await bed.Pipeline(lake).RunCycleAsync(ct);

        var expected = await IndependentSummaryAsync(bed, ct);
        var root = await bed.ReadableRootAsync(lake, ct);
        var actual = TestBed.DuckQuery(
            $"SELECT date, customer_id, total_amount, total_items, distinct_products, top_category FROM read_parquet('{Glob(root, LakeLayout.SummaryTable)}', hive_partitioning = true, hive_types_autocast = false) ORDER BY date, customer_id");
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected, actual.Select(r => string.Join('|', r[0], r[1], double.Parse(r[2], CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture), r[3], r[4], r[5])).ToList());
        Assert.Equal("Electronics", actual.Single(r => r[0] == LakeLayout.Day(DateOnly.FromDateTime(edge)) && r[1] == "1")[5]);
        Assert.Equal("Unknown", actual.Single(r => r[0] == LakeLayout.Day(DateOnly.FromDateTime(edge)) && r[1] == "2")[5]);
        Assert.Equal(await bed.ScalarAsync("SELECT MAX(txn_id) FROM transactions", ct), result.OffsetAfter);
        Assert.Equal(1507, result.RowsRead);
        Assert.Equal(1507, result.TransactionsAggregated);
    }

    [Fact]
    public async Task Categories_that_differ_only_in_case_are_different_categories()
    {
        // SPEC section 9: the tie rule is ordinal, so category names compare as bytes; MySQL's default
        // collation would merge 'Sports' and 'sports' into one group.
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.ExecuteAsync("INSERT INTO products (product_id, name, category, price) VALUES (901, 'Upper', 'Sports', 10.00), (902, 'Lower', 'sports', 10.00)", ct);
        var at = Day0.ToDateTime(new TimeOnly(9, 0));
        await bed.InsertAsync([new Txn(null, 1, 901, 1, 10.00m, at.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)),
            new Txn(null, 1, 902, 1, 10.00m, at.AddMinutes(1).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)),
            new Txn(null, 1, 902, 1, 10.00m, at.AddMinutes(2).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))], ct);
        var lake = bed.NewLake();

        await bed.Pipeline(lake).RunCycleAsync(ct);

        var root = await bed.ReadableRootAsync(lake, ct);
        var rows = TestBed.DuckQuery($"SELECT top_category, distinct_products FROM read_parquet('{Glob(root, LakeLayout.SummaryTable)}', hive_partitioning = true) WHERE customer_id = 1");
        Assert.Equal(new[] { new[] { "sports", "2" } }, rows);
    }

    /// <summary>The expected lake, computed differently: GROUP BY for totals, a correlated subquery for the top category.</summary>
    [Fact]
    public async Task A_long_rebuild_in_two_query_lanes_with_hash_joins_matches_the_independent_computation_and_one_lane()
    {
        // 200 days: long enough for two query lanes and for hash joins; bad rows on several days check that the
        // reject reasons survive the hash joins (NULL-extended rows of the customers and products tables).
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(3000, Day0, 200, seed: 21), ct);
        var at = Day0.ToDateTime(new TimeOnly(10, 0));
        await bed.InsertAsync(
        [
            new Txn(null, 777, 2, 1, bed.Prices[2], at.AddDays(3).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)),     // unknown_customer
            new Txn(null, 5, 555, 1, 10m, at.AddDays(99).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)),              // unknown_product
            new Txn(null, 5, 2, 2, bed.Prices[2], at.AddDays(150).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)),      // amount_mismatch
        ], ct);
        await using (var connection = await bed.DataSource.OpenConnectionAsync(ct))
        {
            Assert.StartsWith("SET STATEMENT join_cache_level=4 FOR ", SummarySource.WithHashJoins(connection, "SELECT 1"), StringComparison.Ordinal);
        }
        Assert.Equal(2, SummaryPipeline.QueryLanes([(Day0, Day0.AddDays(199))], 2).Count);
        var twoLanes = bed.NewLake();
        var oneLane = bed.NewLake();

        var smallChunks = bed.NewLake();

        var result = await bed.Pipeline(twoLanes, configure: o => o.QueryParallelism = 2).RebuildAsync(cancellationToken: ct);
        await bed.Pipeline(oneLane, configure: o => o.QueryParallelism = 1).RebuildAsync(cancellationToken: ct);
        // 7-day chunks: many chunks, each written while the next one fills.
        var chunked = bed.Pipeline(smallChunks, configure: o => o.QueryParallelism = 2);
        chunked.DaysPerPublish = 7;
        await chunked.RebuildAsync(cancellationToken: ct);

        Assert.Equal(3000, result.TransactionsAggregated - result.Rejected);
        Assert.Equal(3, result.Rejected);
        var expected = await IndependentSummaryAsync(bed, ct, validOnly: true);
        var root = await bed.ReadableRootAsync(twoLanes, ct);
        var actual = TestBed.DuckQuery(
            $"SELECT date, customer_id, total_amount, total_items, distinct_products, top_category FROM read_parquet('{Glob(root, LakeLayout.SummaryTable)}', hive_partitioning = true, hive_types_autocast = false) ORDER BY date, customer_id");
        Assert.Equal(expected, actual.Select(r => string.Join('|', r[0], r[1], double.Parse(r[2], CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture), r[3], r[4], r[5])).ToList());
        var twoLaneObjects = await TestBed.SnapshotAsync(twoLanes, ct);
        Assert.Equal(3, twoLaneObjects.Keys.Count(k => k.StartsWith(LakeLayout.SummaryRejects + "/", StringComparison.Ordinal)));
        Assert.Equal(await TestBed.SnapshotAsync(oneLane, ct), twoLaneObjects);
        Assert.Equal(await TestBed.SnapshotAsync(smallChunks, ct), twoLaneObjects);
    }

    [Fact]
    public async Task A_chunk_that_fails_to_publish_fails_the_rebuild_with_its_own_error_and_the_offset_stays()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(1000, Day0, 150, seed: 22), ct);
        var lake = new FailingPublishLake(bed.NewLake(), failAtCall: 2);
        var pipeline = bed.Pipeline(lake, configure: o => o.QueryParallelism = 2);
        pipeline.DaysPerPublish = 10;

        var error = await Assert.ThrowsAsync<IOException>(() => pipeline.RebuildAsync(cancellationToken: ct));

        Assert.Equal(FailingPublishLake.Message, error.Message);
        Assert.Equal(0, await bed.OffsetAsync(ct: ct));
        Assert.True(lake.Calls >= 2);
    }

    [Fact]
    public async Task A_query_lane_that_fails_stops_the_other_and_its_own_error_is_reported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(1000, Day0, 150, seed: 23), ct);
        var pipeline = bed.Pipeline(bed.NewLake(), configure: o => o.QueryParallelism = 2);
        var laneStarts = new List<DateOnly>();
        // The second lane (the later half of the days) fails at once; the first one would go on for its whole half.
        pipeline.BeforeRangeQuery = (first, token) =>
        {
            lock (laneStarts) laneStarts.Add(first);
            return first > Day0 ? Task.FromException(new TimeoutException("injected: lane lost its connection")) : Task.CompletedTask;
        };

        var error = await Assert.ThrowsAsync<TimeoutException>(() => pipeline.RebuildAsync(cancellationToken: ct));

        Assert.Equal("injected: lane lost its connection", error.Message);
        Assert.Equal(2, laneStarts.Count);
        Assert.Equal(0, await bed.OffsetAsync(ct: ct));
    }

    /// <summary>The real lake, except that one batch publish fails (a disk or network error half-way through a rebuild).</summary>
    private sealed class FailingPublishLake(CustomerData.Lake.ILakeStorage inner, int failAtCall) : CustomerData.TestServers.DelegatingLakeStorage(inner)
    {
        public const string Message = "injected: the lake rejected a batch";
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public override Task PublishAllAsync(IReadOnlyList<CustomerData.Lake.LakeWrite> writes, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _calls) == failAtCall ? throw new IOException(Message) : base.PublishAllAsync(writes, cancellationToken);
    }

    internal static async Task<List<string>> IndependentSummaryAsync(TestBed bed, CancellationToken ct, bool validOnly = false)
    {
        await using var connection = await bed.DataSource.OpenConnectionAsync(ct);
        // validOnly: the rows every check of SPEC section 5 B accepts (the data sets here have no NULLs or bad timestamps).
        var where = validOnly
            ? "WHERE t.customer_id IN (SELECT customer_id FROM customers) AND t.product_id IN (SELECT product_id FROM products) AND (t.amount * 100) % t.qty = 0"
            : "";
        await using var command = new MySqlConnector.MySqlCommand($"""
            SET time_zone = '+00:00';
            SELECT DATE_FORMAT(t.txn_timestamp, '%Y-%m-%d') AS d, t.customer_id, SUM(t.amount), SUM(t.qty), COUNT(DISTINCT t.product_id),
              (SELECT COALESCE(NULLIF(p2.category, ''), 'Unknown') AS c
                 FROM transactions t2 JOIN products p2 ON p2.product_id = t2.product_id
                WHERE t2.customer_id = t.customer_id AND DATE(t2.txn_timestamp) = DATE(t.txn_timestamp){(validOnly ? " AND (t2.amount * 100) % t2.qty = 0" : "")}
                GROUP BY c ORDER BY COUNT(*) DESC, CAST(c AS BINARY) LIMIT 1)
            FROM transactions t
            {where}
            GROUP BY d, t.customer_id
            ORDER BY d, t.customer_id
            """, connection);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(string.Join('|', reader.GetString(0), reader.GetInt32(1), ((double)reader.GetDecimal(2)).ToString("R", CultureInfo.InvariantCulture), reader.GetDecimal(3), reader.GetInt64(4), reader.GetString(5)));
        }
        return rows;
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task New_rows_for_an_old_date_rewrite_that_day_only(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync(backend);
        await bed.InsertAsync(bed.RandomValid(400, Day0, 6, seed: 2), ct);
        var lake = bed.NewLake();
        var pipeline = bed.Pipeline(lake);
        await pipeline.RunCycleAsync(ct);
        var before = await TestBed.SnapshotAsync(lake, ct);
        var oldDay = Day0.AddDays(2);

        await bed.InsertAsync([bed.Valid(7, 4, 3, oldDay.ToDateTime(new TimeOnly(9, 30)))], ct);
        var result = await pipeline.RunCycleAsync(ct);
        var after = await TestBed.SnapshotAsync(lake, ct);

        Assert.Equal(1, result.RowsRead);
        Assert.Equal(1, result.DaysRewritten);
        Assert.Equal(before.Keys, after.Keys);
        var changed = after.Keys.Where(k => !before[k].AsSpan().SequenceEqual(after[k])).ToList();
        Assert.Equal([LakeLayout.SummaryFile(oldDay)], changed);
        Assert.Equal(6, after.Keys.Count(k => k.StartsWith(LakeLayout.SummaryTable + "/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_lower_txn_id_committed_late_is_counted_and_a_permanent_gap_is_reported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var lake = bed.NewLake();
        var log = new ListLogger<SummaryPipeline>();
        var pipeline = bed.Pipeline(lake, time, logger: log);
        var day = Day0.ToDateTime(new TimeOnly(10, 0));
        // Ids 1-3 and 5-6 are visible; 4 is still "open" (it commits later with a lower id).
        await bed.InsertAsync([bed.Valid(1, 1, 1, day, 1), bed.Valid(1, 1, 1, day, 2), bed.Valid(2, 2, 1, day, 3), bed.Valid(2, 2, 1, day, 5), bed.Valid(3, 3, 1, day, 6)], ct);

        var first = await pipeline.RunCycleAsync(ct);
        time.Advance(TimeSpan.FromSeconds(5));
        await bed.InsertAsync([bed.Valid(9, 5, 2, day, 4)], ct);
        var second = await pipeline.RunCycleAsync(ct);
        var root = await bed.ReadableRootAsync(lake, ct);
        var late = TestBed.DuckQuery($"SELECT total_items FROM read_parquet('{Glob(root, LakeLayout.SummaryTable)}') WHERE customer_id = 9");

        // Now a gap that never fills: 7 and 8 are skipped for good.
        await bed.InsertAsync([bed.Valid(4, 4, 1, day, 9)], ct);
        var waiting = await pipeline.RunCycleAsync(ct);
        time.Advance(TimeSpan.FromSeconds(31));
        var passed = await pipeline.RunCycleAsync(ct);

        Assert.Equal(3, first.OffsetAfter);
        Assert.Equal(1, first.PendingGapIds);
        Assert.Equal(6, second.OffsetAfter);
        Assert.Equal([["2"]], late);
        Assert.Equal(6, waiting.OffsetAfter);
        Assert.Equal(2, waiting.PendingGapIds);
        Assert.Equal(9, passed.OffsetAfter);
        Assert.Equal(2, passed.ExpiredGapIds);
        Assert.Equal(9, await bed.OffsetAsync(ct: ct));
        var warning = Assert.Single(log.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Values.ContainsKey("MissingIds"));
        Assert.Equal([7L, 8L], (long[])warning.Values["MissingIds"]!);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_crash_between_publish_and_offset_update_then_a_rerun_gives_the_lake_of_a_clean_run(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync(backend);
        await bed.InsertAsync(bed.RandomValid(600, Day0, 8, seed: 3), ct);
        await bed.InsertAsync([new Txn(null, 999, 1, 1, 5m, "2025-12-02 10:00:00"), new Txn(null, 1, 1, 1, 1m, null)], ct);
        var crashed = bed.NewLake();
        var crashing = bed.Pipeline(crashed);
        crashing.BeforeOffsetCommit = _ => throw new IOException("simulated crash before the offset write");

        await Assert.ThrowsAsync<IOException>(() => crashing.RunCycleAsync(ct));
        var offsetAfterCrash = await bed.OffsetAsync(ct: ct);
        var published = await TestBed.SnapshotAsync(crashed, ct);
        // More rows arrive while the pipeline is down, then it restarts (a new instance: no memory of the crash).
        await bed.InsertAsync(bed.RandomValid(50, Day0.AddDays(6), 4, seed: 4), ct);
        var rerun = await bed.Pipeline(crashed).RunCycleAsync(ct);

        var clean = bed.NewLake();
        var cleanRun = await bed.Pipeline(clean, configure: o => o.OffsetSource = "clean-run").RunCycleAsync(ct);

        Assert.Equal(0, offsetAfterCrash);
        Assert.NotEmpty(published);
        Assert.Equal(cleanRun.OffsetAfter, rerun.OffsetAfter);
        var crashedLake = await TestBed.SnapshotAsync(crashed, ct);
        var cleanLake = await TestBed.SnapshotAsync(clean, ct);
        Assert.Equal(cleanLake.Keys, crashedLake.Keys);
        Assert.All(cleanLake, kv => Assert.Equal(kv.Value, crashedLake[kv.Key]));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task DuckDb_reads_the_lake_with_hive_partitioning_and_gets_the_spec_types(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync(backend);
        await bed.InsertAsync(bed.RandomValid(200, Day0, 3, seed: 5), ct);
        var lake = bed.NewLake();
        await bed.Pipeline(lake).RunCycleAsync(ct);
        var root = await bed.ReadableRootAsync(lake, ct);
        var glob = Glob(root, LakeLayout.SummaryTable);

        var types = TestBed.DuckQuery($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{glob}', hive_partitioning = true, hive_types_autocast = false))");
        var codecs = TestBed.DuckQuery($"SELECT DISTINCT compression FROM parquet_metadata('{glob}')");
        var days = TestBed.DuckQuery($"SELECT DISTINCT date FROM read_parquet('{glob}', hive_partitioning = true) ORDER BY 1");
        var files = TestBed.DuckQuery($"SELECT count(*) FROM glob('{glob}')");

        Assert.Equal(
            [["customer_id", "INTEGER"], ["total_amount", "DOUBLE"], ["total_items", "INTEGER"], ["distinct_products", "INTEGER"], ["top_category", "VARCHAR"], ["date", "VARCHAR"]],
            types);
        Assert.Equal([["SNAPPY"]], codecs);
        Assert.Equal(3, days.Count);
        Assert.Equal([["3"]], files);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Each_check_rejects_its_rows_counts_them_by_reason_and_reports_them_in_the_lake(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync(backend);
        var ts = "2025-12-03 08:00:00";
        await bed.InsertAsync(
        [
            bed.Valid(5, 2, 2, new DateTime(2025, 12, 3, 9, 0, 0)),          // 1 valid
            new Txn(null, null, 2, 1, bed.Prices[2], ts),                      // 2 missing_customer_id
            new Txn(null, 777, 2, 1, bed.Prices[2], ts),                       // 3 unknown_customer
            new Txn(null, 5, null, 1, 10m, ts),                                // 4 missing_product_id
            new Txn(null, 5, 555, 1, 10m, ts),                                 // 5 unknown_product
            new Txn(null, 5, 2, 0, 0.01m, ts),                                 // 6 non_positive_qty
            new Txn(null, 5, 2, -2, bed.Prices[2], ts),                        // 7 non_positive_qty
            new Txn(null, 5, 2, 1, -1m * bed.Prices[2], ts),                   // 8 non_positive_amount
            new Txn(null, 5, 2, 2, bed.Prices[2], ts),                         // 9 amount_mismatch
            new Txn(null, 5, 2, 1, bed.Prices[2], null),                       // 10 invalid_timestamp (NULL)
            new Txn(null, 5, 2, 1, bed.Prices[2], "0000-00-00 00:00:00"),      // 11 invalid_timestamp (zero)
        ], ct);
        var lake = bed.NewLake();
        var log = new ListLogger<SummaryPipeline>();
        var measured = new Dictionary<string, long>();
        var qualityMeasured = new Dictionary<string, long>();
        var lagTxns = 0L;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter == bed.Telemetry.Meter) l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "summary.rejects")
            {
                foreach (var tag in tags) if (tag.Key == "reason") lock (measured) measured[(string)tag.Value!] = measured.GetValueOrDefault((string)tag.Value!) + value;
            }
            if (instrument.Name == "quality.rejects")
            {
                foreach (var tag in tags) if (tag.Key == "reason") lock (qualityMeasured) qualityMeasured[(string)tag.Value!] = qualityMeasured.GetValueOrDefault((string)tag.Value!) + value;
            }
            if (instrument.Name == "summary.lag.transactions") lagTxns = value;
        });
        listener.Start();

        var result = await bed.Pipeline(lake, logger: log).RunCycleAsync(ct);
        listener.RecordObservableInstruments();
        var root = await bed.ReadableRootAsync(lake, ct);
        var summary = TestBed.DuckQuery($"SELECT customer_id, total_items, total_amount FROM read_parquet('{Glob(root, LakeLayout.SummaryTable)}')");
        var rejects = TestBed.DuckQuery(
            $"SELECT txn_id, reason, date FROM read_parquet('{Glob(root, LakeLayout.SummaryRejects)}', hive_partitioning = true, hive_types_autocast = false) ORDER BY txn_id");

        Assert.Equal([["5", "2", ((double)(2 * bed.Prices[2])).ToString(CultureInfo.InvariantCulture)]], summary);
        var expected = new Dictionary<string, long>
        {
            [RejectReasons.MissingCustomerId] = 1, [RejectReasons.UnknownCustomer] = 1, [RejectReasons.MissingProductId] = 1,
            [RejectReasons.UnknownProduct] = 1, [RejectReasons.NonPositiveQty] = 2, [RejectReasons.NonPositiveAmount] = 1,
            [RejectReasons.AmountMismatch] = 1, [RejectReasons.InvalidTimestamp] = 2,
        };
        Assert.Equal(expected.OrderBy(kv => kv.Key), result.RejectedByReason.OrderBy(kv => kv.Key));
        Assert.Equal(expected.OrderBy(kv => kv.Key), measured.OrderBy(kv => kv.Key));
        Assert.Equal(11, lagTxns);
        var logged = log.Entries.Where(e => e.Values.ContainsKey("Reason")).ToDictionary(e => (string)e.Values["Reason"]!, e => (string[])e.Values["Sample"]!);
        Assert.Equal(expected.Keys.Order(), logged.Keys.Order());
        Assert.Contains("txn_id=9 ", logged[RejectReasons.AmountMismatch][0]);
        Assert.Equal(10, result.Rejected);
        Assert.Equal(
            [
                ["2", RejectReasons.MissingCustomerId, "2025-12-03"], ["3", RejectReasons.UnknownCustomer, "2025-12-03"],
                ["4", RejectReasons.MissingProductId, "2025-12-03"], ["5", RejectReasons.UnknownProduct, "2025-12-03"],
                ["6", RejectReasons.NonPositiveQty, "2025-12-03"], ["7", RejectReasons.NonPositiveQty, "2025-12-03"],
                ["8", RejectReasons.NonPositiveAmount, "2025-12-03"], ["9", RejectReasons.AmountMismatch, "2025-12-03"],
                ["10", RejectReasons.InvalidTimestamp, LakeLayout.UndatedPartition], ["11", RejectReasons.InvalidTimestamp, LakeLayout.UndatedPartition],
            ],
            rejects);
        // Every row was looked at, so the offset moves past the rejected ones too (they are reported, not retried).
        Assert.Equal(11, result.OffsetAfter);

        // The data-quality report (GET /quality) and its quality.* metrics: the same counts, samples of ids and values only.
        var report = bed.Telemetry.Quality.Report();
        var cycle = Assert.Single(report.Cycles);
        Assert.Equal(("incremental", 11L, 11L), (cycle.Kind, cycle.RowsChecked, cycle.Lag));
        Assert.Equal(expected.OrderBy(kv => kv.Key), cycle.Rejects.Select(r => KeyValuePair.Create(r.Reason, r.Count)));
        Assert.Equal(expected.OrderBy(kv => kv.Key), qualityMeasured.OrderBy(kv => kv.Key));
        Assert.StartsWith("txn_id=9 customer_id=5 product_id=2 qty=2 ", Assert.Single(cycle.Rejects.Single(r => r.Reason == RejectReasons.AmountMismatch).Samples));
        Assert.Equal(new DateTime(2025, 12, 3, 9, 0, 0, DateTimeKind.Utc), report.NewestRecordAt);
        Assert.Equal(11, report.Lag);
    }
}
