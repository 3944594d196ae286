using CustomerData.Lake;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerData.Pipelines.Events.Tests;

public sealed class MalformedRetentionTests
{
    [Fact]
    public async Task TheMalformedAreaKeepsOnlyItsRetentionAndValidEventsAreNeverTouched()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempLake();
        var lake = new LocalFolderLakeStorage(folder.Root);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var old = today.AddDays(-10);
        var recent = today.AddDays(-2);
        var record = new MalformedEvent("AAAA", "undecodable", "test", "t", 0, 1, DateTime.UtcNow, DateTime.UtcNow);
        foreach (var day in new[] { old, recent })
        {
            await lake.PublishAsync(EventFileNames.MalformedBatchKey(day, "t", 0, 1), await EventParquet.WriteMalformedAsync([record], ct), ct);
        }
        var eventKey = EventFileNames.EventsBatchKey(old, "t", 0, 1);
        await lake.PublishAsync(eventKey, await EventParquet.WriteEventsAsync(
            [new LakeEvent("e-1", 1, "LIKE", null, old.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), DateTime.UtcNow)], 10, cancellationToken: ct), ct);
        var options = new EventsOptions { Compaction = new CompactionOptions { MalformedRetentionDays = 7 } };
        var compactor = new EventsCompactor(lake, options, TimeProvider.System, NullLogger<EventsCompactor>.Instance);

        await compactor.RunPassAsync(_ => new Dictionary<(string, int), long>(), ct);

        var malformed = (await lake.ListAsync(LakeLayout.EventsMalformed + "/", ct)).Select(o => o.Key).ToList();
        Assert.Equal([EventFileNames.MalformedBatchKey(recent, "t", 0, 1)], malformed);
        Assert.NotNull(await lake.ReadAsync(eventKey, ct));
    }
}
