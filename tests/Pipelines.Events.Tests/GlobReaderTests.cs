using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using CustomerData.Lake;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>
/// Issue 13: what a data engineer types first, <c>read_parquet('lake/events/*/*.parquet', hive_partitioning = true)</c>,
/// must not see an event twice while the compactor rewrites today's partition again and again.
/// </summary>
public sealed class GlobReaderTests(KafkaFixture kafka)
{
    private static readonly DateOnly Day = DateOnly.FromDateTime(DateTime.UtcNow);

    [Fact]
    public async Task APlainGlobReaderThroughRepeatedCompactionsSeesNoDuplicateOnceASwitchIsDone()
    {
        var ct = TestContext.Current.CancellationToken;
        using var lakeFolder = new TempLake();
        var lake = new LocalFolderLakeStorage(lakeFolder.Root);
        var topic = $"events-glob-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        var dayStart = Day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        // Today's day is open: it is compacted whenever it has more than MaxFilesPerDay files, i.e. again and again.
        var options = new EventsOptions { Topic = topic, GroupId = group, Compaction = new CompactionOptions { RowGroupRows = 500, MaxFilesPerDay = 4 } };
        var compactor = new EventsCompactor(lake, options, TimeProvider.System, NullLogger<EventsCompactor>.Instance);
        var overlaps = new ConcurrentQueue<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EventsTelemetry.Name && instrument.Name == "events.compaction.glob_overlap") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => overlaps.Enqueue(value));
        listener.Start();

        await using var pipeline = await PipelineHost.StartAsync(kafka.Cluster.BootstrapServers, lakeFolder.Root, topic, group,
            new Dictionary<string, string?> { ["Events:MaxBatchRecords"] = "100" });
        var sent = await TestEvents.ProduceAsync(producer, topic, 1_000, malformedEvery: 0, dayStart, cancellationToken: ct);
        await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(60));

        // The glob reader reads the whole table as fast as it can; each read is stamped with when it ran.
        using var stop = new CancellationTokenSource();
        var reads = new ConcurrentQueue<(long Start, long End, long Rows, long Distinct)>();
        var failedReads = 0;
        var glob = LakeLayout.Glob(lakeFolder.Root, LakeLayout.EventsTable);
        var readerTask = Task.Run(() =>
        {
            using var connection = new DuckDBConnection("DataSource=:memory:");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT count(*), count(DISTINCT event_id) FROM read_parquet('{glob}', hive_partitioning = true)";
            while (!stop.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    using var r = command.ExecuteReader();
                    r.Read();
                    reads.Enqueue((start, Stopwatch.GetTimestamp(), r.GetInt64(0), r.GetInt64(1)));
                }
                catch (DuckDBException)
                {
                    // The glob matched a file deleted before DuckDB opened it (a compaction's clean-up): read again.
                    Interlocked.Increment(ref failedReads);
                }
            }
        }, ct);

        // Rounds of new events for today, each followed by a compaction pass.
        var passes = new List<(long Start, long End)>();
        var compactions = 0;
        for (var round = 1; round <= 8; round++)
        {
            sent.AddRange(await TestEvents.ProduceAsync(producer, topic, 500, malformedEvery: 0, dayStart, startIndex: round * 10_000, cancellationToken: ct));
            await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(60));
            var passStart = Stopwatch.GetTimestamp();
            compactions += (await compactor.RunPassAsync(_ => new Dictionary<(string, int), long>(), ct)).Count;
            passes.Add((passStart, Stopwatch.GetTimestamp()));
            await WaitForReadAfterAsync(reads, passes[^1].End, readerTask);
        }
        await stop.CancelAsync();
        await readerTask;

        var all = reads.ToList();
        var duplicated = all.Where(r => r.Rows != r.Distinct).ToList();
        // Only a read overlapping a compaction pass may meet a switch's window; every other read must be exact.
        var outsidePasses = duplicated.Where(r => !passes.Any(p => r.Start <= p.End && r.End >= p.Start)).ToList();
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"{all.Count} glob reads ({failedReads} hit a vanished file and were repeated), {compactions} compactions, "
            + $"{duplicated.Count} reads saw duplicates (all during a pass: {outsidePasses.Count == 0}); switch-to-deleted window max "
            + $"{(overlaps.IsEmpty ? 0 : overlaps.Max() * 1000):F1} ms, mean {(overlaps.IsEmpty ? 0 : overlaps.Average() * 1000):F1} ms over {overlaps.Count} switches (this process's, other tests' too)");
        Assert.True(compactions >= 4, $"the day was compacted repeatedly ({compactions})");
        Assert.True(all.Count > 20, $"the glob reader ran through the compactions ({all.Count} reads)");
        Assert.Empty(outsidePasses);
        Assert.NotEmpty(overlaps);
        var last = all[^1];
        Assert.Equal((long)sent.Count, last.Rows);
        Assert.Equal((long)sent.Count, last.Distinct);
    }

    private static async Task WaitForReadAfterAsync(ConcurrentQueue<(long Start, long End, long Rows, long Distinct)> reads, long after, Task readerTask)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!reads.Any(r => r.Start > after))
        {
            if (readerTask.IsCompleted) await readerTask;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the glob reader took no read after the compaction pass");
            await Task.Delay(20);
        }
    }
}
