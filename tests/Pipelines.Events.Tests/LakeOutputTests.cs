using CustomerData.Contracts;
using CustomerData.Lake;
using DuckDB.NET.Data;

namespace CustomerData.Pipelines.Events.Tests;

public sealed class LakeOutputTests(KafkaFixture kafka, S3rverFixture s3)
{
    private static readonly DateTime BaseTime = new(2025, 12, 9, 18, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData("local")]
    [InlineData("s3")]
    public async Task EveryMalformedKindLandsInTheMalformedAreaWithItsReasonAndRepairsAreKept(string lakeKind)
    {
        using var testLake = new TestLake(lakeKind, s3);
        var topic = $"events-malformed-{Guid.NewGuid():N}";
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        // Every 2nd message malformed, cycling through all seven kinds several times.
        var sent = await TestEvents.ProduceAsync(producer, topic, 140, malformedEvery: 2, BaseTime, cancellationToken: TestContext.Current.CancellationToken);

        await using (await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, testLake.Options.Root, topic, "g-" + topic, testLake.Settings()))
        {
            await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, "g-" + topic, partitions, TimeSpan.FromSeconds(60));
        }

        var lake = testLake.Storage;
        await Lake.AssertExactlyOnceAsync(lake, sent);
        var malformed = await Lake.ReadAllMalformedAsync(lake);
        Assert.Equal(
            new[] { MalformedReasons.MissingEventId, MalformedReasons.MissingEventType, MalformedReasons.MissingKey, MalformedReasons.Undecodable },
            malformed.Select(m => m.Reason).Distinct().Order(StringComparer.Ordinal).ToArray());
        foreach (var m in malformed)
        {
            Assert.Equal(topic, m.Topic);
            Assert.NotEmpty(Convert.FromBase64String(m.RawBase64));
            Assert.True(m.KafkaTimestamp > DateTime.UtcNow.AddMinutes(-10), "the Kafka timestamp is kept");
        }

        var events = (await Lake.ReadAllEventsAsync(lake)).Select(e => e.Event).ToDictionary(e => e.EventId);
        var repairedTimestamp = sent.Where(s => s.Kind == MalformedKind.UnparseableTimestamp).ToList();
        Assert.NotEmpty(repairedTimestamp);
        foreach (var s in repairedTimestamp)
        {
            // Fallback to the Kafka timestamp: produced just now, not at BaseTime.
            Assert.True(events[s.EventId].EventTimestamp > DateTime.UtcNow.AddMinutes(-10));
        }
        var negative = sent.Where(s => s.Kind == MalformedKind.NegativeProductId).ToList();
        Assert.NotEmpty(negative);
        Assert.All(negative, s => Assert.Null(events[s.EventId].ProductId));
        Assert.All(sent.Where(s => s.Kind is null), s => Assert.Equal(7, events[s.EventId].ProductId));
    }

    [Fact]
    public async Task DuckDbReadsTheLakeWithHivePartitioningAndGetsTheSpecTypes()
    {
        using var lakeFolder = new TempLake();
        var topic = $"events-duckdb-{Guid.NewGuid():N}";
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        // 200 events 0.5 s apart from 18:00 on the 9th, and 50 from 01:00 on the 10th: two event_date partitions.
        var sent = await TestEvents.ProduceAsync(producer, topic, 200, malformedEvery: 0, BaseTime, cancellationToken: TestContext.Current.CancellationToken);
        var nextDay = await TestEvents.ProduceAsync(producer, topic, 50, malformedEvery: 0, BaseTime.AddHours(7), startIndex: 200, cancellationToken: TestContext.Current.CancellationToken);

        await using (await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lakeFolder.Root, topic, "g-" + topic))
        {
            await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, "g-" + topic, partitions, TimeSpan.FromSeconds(60));
        }

        using var connection = new DuckDBConnection("DataSource=:memory:");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var glob = LakeLayout.Glob(lakeFolder.Root, LakeLayout.EventsTable);
        using var describe = connection.CreateCommand();
        describe.CommandText = $"DESCRIBE SELECT * FROM read_parquet('{glob}', hive_partitioning = true)";
        var types = new Dictionary<string, string>();
        using (var reader = await describe.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken)) types[reader.GetString(0)] = reader.GetString(1);
        }
        Assert.Equal("VARCHAR", types["event_id"]);
        Assert.Equal("INTEGER", types["customer_id"]);
        Assert.Equal("VARCHAR", types["event_type"]);
        Assert.Equal("INTEGER", types["product_id"]);
        Assert.Equal("TIMESTAMP WITH TIME ZONE", types["event_timestamp"]);
        Assert.Equal("TIMESTAMP WITH TIME ZONE", types["ingestion_timestamp"]);
        // DuckDB's default hive_types_autocast makes the partition key a DATE; without it, it is the string of SPEC §4.
        Assert.Equal("DATE", types["event_date"]);
        describe.CommandText = $"DESCRIBE SELECT event_date FROM read_parquet('{glob}', hive_partitioning = true, hive_types_autocast = false)";
        Assert.Equal("VARCHAR", await ColumnTypeAsync(describe));

        // The written logical type itself: TIMESTAMP(isAdjustedToUTC = true, MICROS) on INT64.
        using var schema = connection.CreateCommand();
        schema.CommandText = $"SELECT name, type, CAST(logical_type AS VARCHAR) FROM parquet_schema('{glob}') WHERE name LIKE '%timestamp'";
        var timestampColumns = 0;
        using (var reader = await schema.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                timestampColumns++;
                Assert.Equal("INT64", reader.GetString(1));
                var logical = reader.GetString(2);
                Assert.Contains("isAdjustedToUTC=1", logical, StringComparison.Ordinal);
                Assert.Contains("MICROS=MicroSeconds", logical, StringComparison.Ordinal);
            }
        }
        Assert.True(timestampColumns >= 2, "both timestamp columns are described");

        // The reader helper's exact file list gives the same rows, and event_date agrees with the UTC day of event_timestamp.
        var files = await new EventsLakeReader(new LocalFolderLakeStorage(lakeFolder.Root)).ListReadableUrisAsync(null, null, TestContext.Current.CancellationToken);
        using var query = connection.CreateCommand();
        query.CommandText = $"""
            SET TimeZone = 'UTC';
            SELECT count(*), count(DISTINCT event_id), count(*) FILTER (WHERE CAST(event_timestamp AS DATE) <> event_date),
                   count(DISTINCT event_date), min(epoch_us(event_timestamp))
            FROM read_parquet([{string.Join(",", files.Select(f => $"'{f}'"))}], hive_partitioning = true)
            """;
        using (var reader = await query.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
            Assert.Equal(250L, reader.GetInt64(0));
            Assert.Equal(250L, reader.GetInt64(1));
            Assert.Equal(0L, reader.GetInt64(2));
            Assert.Equal(2L, reader.GetInt64(3));
            var expectedFirstMicros = (BaseTime - DateTime.UnixEpoch).Ticks / 10;
            Assert.Equal(expectedFirstMicros, reader.GetInt64(4));
        }
        Assert.Equal(250, sent.Count + nextDay.Count);
    }

    private static async Task<string> ColumnTypeAsync(DuckDBCommand describe)
    {
        using var reader = await describe.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return reader.GetString(1);
    }
}
