using Confluent.Kafka;
using CustomerData.Lake;
using CustomerData.TestServers;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>The pipeline as its own process, killed with SIGKILL at random moments while events keep coming.</summary>
public sealed class CrashTests(KafkaFixture kafka)
{
    [Fact]
    public async Task RepeatedKillNineNeitherLosesNorDuplicatesAnEvent()
    {
        var ct = TestContext.Current.CancellationToken;
        using var lakeFolder = new TempLake();
        var topic = $"events-crash-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        var baseTime = new DateTime(2025, 12, 9, 23, 50, 0, DateTimeKind.Utc); // the stream crosses midnight: two days

        // Events keep coming (about 2,000/s, every 10th malformed) for as long as the pipeline is being killed.
        using var killing = new CancellationTokenSource();
        var production = Task.Run(async () =>
        {
            var all = new List<SentEvent>();
            for (var chunk = 0; !killing.IsCancellationRequested || chunk < 8; chunk++)
            {
                all.AddRange(await TestEvents.ProduceAsync(producer, topic, 500, malformedEvery: 10, baseTime, startIndex: chunk * 1_000, cancellationToken: ct));
                await Task.Delay(250, ct);
            }
            return all;
        }, ct);

        var random = new Random(7);
        var kills = 0;
        var committedBeforeFinalRun = 0L;
        using var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = kafka.Cluster.BootstrapServers, GroupId = group }).Build();
        for (var round = 0; round < 5; round++)
        {
            var process = StartPipeline(lakeFolder.Root, topic, group);
            // Kill at a random moment after it got its partitions (a restart first waits for the dead member's session to expire).
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!process.Output.Contains("Assigned partitions", StringComparison.Ordinal) && DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(50, ct);
            }
            Assert.True(process.Output.Contains("Assigned partitions", StringComparison.Ordinal), $"Round {round}: the pipeline got no partitions within 90 s:\n{process.Output}");
            if (round == 0)
            {
                // The first run commits a batch before its random kill: on a slow machine a freshly started process
                // may need longer than the random delay for its first write, and then no kill would hit a working pipeline.
                await WaitUntilCommittedAsync(offsets, topic, partitions, process, ct);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(100, 1_500)), ct);
            Assert.False(process.HasExited, $"The pipeline exited by itself:\n{process.Output}");
            await process.StopAsync(TimeSpan.FromSeconds(10)); // Process.Kill: SIGKILL on Linux
            kills++;
        }
        committedBeforeFinalRun = offsets.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList(), TimeSpan.FromSeconds(5))
            .Sum(c => Math.Max(0, c.Offset.Value));

        await killing.CancelAsync();
        var sent = await production;
        var final = StartPipeline(lakeFolder.Root, topic, group);
        try
        {
            // Catching up on everything the killed runs left (tens of thousands of events) after the dead members' sessions expired.
            await Lake.WaitForCommittedAsync(kafka.Cluster.BootstrapServers, topic, group, partitions, TimeSpan.FromSeconds(180), () => final.Output);
        }
        finally
        {
            await final.StopAsync(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(5, kills);
        // (That the kills hit a working pipeline is asserted by the first round's wait for a commit.)
        Assert.True(committedBeforeFinalRun < sent.Count, "the killed runs had not finished the stream");
        await Lake.AssertExactlyOnceAsync(new LocalFolderLakeStorage(lakeFolder.Root), sent);
    }

    /// <summary>Waits (bounded) until the group has committed an offset on some partition.</summary>
    private static async Task WaitUntilCommittedAsync(IConsumer<Ignore, Ignore> offsets, string topic, int partitions, RunningProcess process, CancellationToken ct)
    {
        var tps = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!offsets.Committed(tps, TimeSpan.FromSeconds(10)).Any(c => c.Offset.Value > 0))
        {
            Assert.False(process.HasExited, $"The pipeline exited by itself:\n{process.Output}");
            Assert.True(DateTime.UtcNow < deadline, $"The first run committed no batch within 90 s:\n{process.Output}");
            await Task.Delay(100, ct);
        }
    }

    private RunningProcess StartPipeline(string lakeRoot, string topic, string group)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Pipelines.Events.dll");
        return ServerProcess.Start("dotnet", [dll], new Dictionary<string, string>
        {
            ["ConnectionStrings__kafka"] = KafkaBootstrap!,
            ["Lake__Root"] = lakeRoot,
            ["Events__Topic"] = topic,
            ["Events__GroupId"] = group,
            ["Events__MaxBatchRecords"] = "300",
            ["Events__Compaction__Enabled"] = "false",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__CustomerData"] = "Information",
            // A SIGKILLed member leaves the group only when its session times out: keep that short here.
            ["Kafka__kafka__Config__session.timeout.ms"] = "6000",
            ["Kafka__kafka__Config__heartbeat.interval.ms"] = "500",
        });
    }

    private string? KafkaBootstrap => kafka.Cluster.BootstrapServers;
}
