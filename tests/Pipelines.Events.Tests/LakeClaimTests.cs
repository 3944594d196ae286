using Confluent.Kafka;
using CustomerData.Lake;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>The lake claim on its own, over a real lake folder.</summary>
public sealed class LakeClaimTests : IDisposable
{
    private readonly TempLake _folder = new();
    private readonly IngestionState _state = new();

    private LakeClaim Claim(ILakeStorage lake, string group, bool adopt = false, Func<string, IReadOnlyList<TopicPartitionOffset>>? copy = null) =>
        new(lake, new EventsOptions { GroupId = group, Topic = "t", AdoptLake = adopt }, copy ?? (_ => throw new InvalidOperationException("no copy expected")),
            _state, new RetryBackoff(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50), TimeProvider.System),
            new WaitBounds(TimeSpan.FromSeconds(10), TimeProvider.System), TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task The_first_group_claims_an_empty_lake_and_another_group_is_refused_as_fatal()
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = new LocalFolderLakeStorage(_folder.Root);

        Assert.True(Claim(lake, "first").TryClaim(ct));
        Assert.Equal("first", LakeIdentity.FromJson((await lake.ReadAsync(LakeIdentity.Key, ct))!).GroupId);
        Assert.True(Claim(lake, "first").TryClaim(ct));
        Assert.Null(_state.FatalError);

        Assert.False(Claim(lake, "second").TryClaim(ct));
        Assert.Contains("belongs to consumer group 'first'", _state.FatalError);
        Assert.Equal("first", LakeIdentity.FromJson((await lake.ReadAsync(LakeIdentity.Key, ct))!).GroupId);
    }

    [Fact]
    public async Task Adopting_copies_the_old_groups_offsets_first_then_records_the_new_owner()
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = new LocalFolderLakeStorage(_folder.Root);
        Assert.True(Claim(lake, "old").TryClaim(ct));
        string? copiedFrom = null;

        Assert.True(Claim(lake, "new", adopt: true, copy: from => { copiedFrom = from; return []; }).TryClaim(ct));

        Assert.Equal("old", copiedFrom);
        var owner = LakeIdentity.FromJson((await lake.ReadAsync(LakeIdentity.Key, ct))!);
        Assert.Equal(("new", "old"), (owner.GroupId, owner.AdoptedFrom));
    }

    [Fact]
    public async Task An_unreadable_lake_degrades_and_is_retried_until_it_answers()
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = new FailingReadsLakeStorage(new LocalFolderLakeStorage(_folder.Root), key => key == LakeIdentity.Key);
        var claim = Task.Run(() => Claim(lake, "first").TryClaim(ct), ct);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (lake.Failed < 3 && DateTime.UtcNow < deadline) await Task.Delay(10, ct);
        Assert.Contains("checking the lake's owning group failed", _state.DegradedReason);

        lake.Failing = false;
        Assert.True(await claim.WaitAsync(TimeSpan.FromSeconds(30), ct));
        Assert.Null(_state.DegradedReason);
    }

    public void Dispose() => _folder.Dispose();
}
