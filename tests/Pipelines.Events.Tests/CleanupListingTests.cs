using CustomerData.Contracts;
using CustomerData.Lake;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>
/// Issue 13: the clean-up on assignment lists only the days that can hold uncommitted files (the partitions'
/// pending-days records), never the whole lake; a lake written before those records is listed whole once.
/// </summary>
public sealed class CleanupListingTests(KafkaFixture kafka)
{
    private static readonly DateTime BaseTime = new(2025, 12, 9, 12, 0, 0, DateTimeKind.Utc);

    private static Dictionary<string, string?> Settings => new()
    {
        ["Events:MaxBatchRecords"] = "200",
        ["Kafka:kafka:Config:session.timeout.ms"] = "6000",
        ["Kafka:kafka:Config:heartbeat.interval.ms"] = "500",
    };

    [Fact]
    public async Task A_lake_with_many_old_days_is_cleaned_up_by_listing_only_the_recorded_days_and_a_genuinely_uncommitted_file_goes()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempLake();
        var local = new LocalFolderLakeStorage(folder.Root);
        var bootstrap = kafka.Cluster.BootstrapServers;
        var topic = $"events-listing-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(bootstrap);
        var sent = await TestEvents.ProduceAsync(producer, topic, 1_000, malformedEvery: 25, BaseTime, cancellationToken: ct);
        await using (await PipelineHost.StartAsync(bootstrap, folder.Root, topic, group, Settings))
        {
            await Lake.WaitForCommittedAsync(bootstrap, topic, group, partitions, TimeSpan.FromSeconds(60));
        }
        var expected = new HashSet<string>(StringComparer.Ordinal);
        for (var p = 0; p < partitions; p++)
        {
            var days = await PendingDays.ReadAsync(local, topic, p, ct);
            Assert.NotNull(days);
            expected.UnionWith(days.EventDays.Select(LakeLayout.EventsPartition));
            expected.UnionWith(days.MalformedDays.Select(LakeLayout.MalformedPartition));
        }
        // Forty old days of the lake (another topic's files, as compacted history would be).
        var oldFile = await EventParquet.WriteEventsAsync([new LakeEvent("old", 1, "LIKE", null, BaseTime.AddDays(-100), BaseTime)], 10, cancellationToken: ct);
        var oldKeys = Enumerable.Range(1, 40).Select(d => EventFileNames.EventsBatchKey(DateOnly.FromDateTime(BaseTime).AddDays(-60 - d), "other-topic", 0, 0)).ToList();
        foreach (var key in oldKeys) await local.PublishAsync(key, oldFile, ct);
        // A crashed batch's leftover: partition 0, above the lake's position, on a day the record names.
        var position = (await PartitionPosition.ReadAsync(local, topic, 0, ct))!;
        var day = (await PendingDays.ReadAsync(local, topic, 0, ct))!.EventDays[0];
        var leftover = EventFileNames.EventsBatchKey(day, topic, 0, position.NextOffset + 7, position.Epoch);
        await local.PublishAsync(leftover, await EventParquet.WriteEventsAsync(
            [new LakeEvent("leftover-of-a-crash", 1, "LIKE", null, day.ToDateTime(new TimeOnly(12, 0), DateTimeKind.Utc), BaseTime)], 10, cancellationToken: ct), ct);

        var counting = new ListingCountingLakeStorage(local);
        await using (await PipelineHost.StartAsync(bootstrap, folder.Root, topic, group, Settings, s => s.AddSingleton<ILakeStorage>(counting)))
        {
            sent.AddRange(await TestEvents.ProduceAsync(producer, topic, 500, malformedEvery: 25, BaseTime, startIndex: 50_000, cancellationToken: ct));
            await Lake.WaitForCommittedAsync(bootstrap, topic, group, partitions, TimeSpan.FromSeconds(60));
        }

        Assert.Null(await local.ReadAsync(leftover, ct));
        var listed = counting.Listed.ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(listed);
        Assert.Subset(expected, listed);
        Assert.DoesNotContain(LakeLayout.EventsTable + "/", listed);
        Assert.DoesNotContain(LakeLayout.EventsMalformed + "/", listed);
        foreach (var key in oldKeys)
        {
            Assert.NotNull(await local.ReadAsync(key, ct)); // untouched
            await local.DeleteAsync(key, ct);
        }
        await Lake.AssertExactlyOnceAsync(local, sent);
    }

    /// <summary>
    /// A lake of before lake positions: batch files and the group's committed offsets only. It is resumed from the
    /// committed offsets, its leftover above them removed (listing the whole areas once, with no record to go by), and
    /// from then on it has positions and pending-days records.
    /// </summary>
    [Fact]
    public async Task A_lake_written_before_positions_existed_resumes_from_the_committed_offsets_and_keeps_every_event_once()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempLake();
        var local = new LocalFolderLakeStorage(folder.Root);
        var bootstrap = kafka.Cluster.BootstrapServers;
        var topic = $"events-oldlake-{Guid.NewGuid():N}";
        var group = "g-" + topic;
        var partitions = kafka.Cluster.EnsureTopic(topic);
        using var producer = TestEvents.Producer(bootstrap);
        var sent = await TestEvents.ProduceAsync(producer, topic, 1_000, malformedEvery: 25, BaseTime, cancellationToken: ct);
        await using (await PipelineHost.StartAsync(bootstrap, folder.Root, topic, group, Settings))
        {
            await Lake.WaitForCommittedAsync(bootstrap, topic, group, partitions, TimeSpan.FromSeconds(60));
        }
        // What the old version left: no positions, no pending-days records; a crash's leftover above the committed offset.
        var committedEnd = (await PartitionPosition.ReadAsync(local, topic, 0, ct))!.NextOffset;
        Directory.Delete(Path.Combine(folder.Root, PartitionPosition.Folder), recursive: true);
        Directory.Delete(Path.Combine(folder.Root, PendingDays.Folder), recursive: true);
        var day = DateOnly.FromDateTime(BaseTime);
        var leftover = EventFileNames.EventsBatchKey(day, topic, 0, committedEnd + 3);
        await local.PublishAsync(leftover, await EventParquet.WriteEventsAsync(
            [new LakeEvent("leftover-of-a-crash", 1, "LIKE", null, BaseTime, BaseTime)], 10, cancellationToken: ct), ct);

        var counting = new ListingCountingLakeStorage(local);
        await using (await PipelineHost.StartAsync(bootstrap, folder.Root, topic, group, Settings, s => s.AddSingleton<ILakeStorage>(counting)))
        {
            sent.AddRange(await TestEvents.ProduceAsync(producer, topic, 600, malformedEvery: 25, BaseTime, startIndex: 50_000, cancellationToken: ct));
            await Lake.WaitForCommittedAsync(bootstrap, topic, group, partitions, TimeSpan.FromSeconds(60));
        }

        Assert.Null(await local.ReadAsync(leftover, ct));
        Assert.Contains(LakeLayout.EventsTable + "/", counting.Listed);
        var positions = await PartitionPosition.ReadAllAsync(local, ct);
        Assert.Equal(partitions, positions.Count(p => p.Key.Topic == topic));
        for (var p = 0; p < partitions; p++) Assert.NotNull(await PendingDays.ReadAsync(local, topic, p, ct));
        await Lake.AssertExactlyOnceAsync(local, sent);
    }
}
