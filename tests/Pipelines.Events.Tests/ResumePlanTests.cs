using CustomerData.Lake;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>Where an assigned partition resumes, from the lake's position, the group's offset and the log's bounds.</summary>
public sealed class ResumePlanTests
{
    private static PartitionPosition Lake(long next, int epoch = 0, string? topicId = "T1", string? clusterId = "C1") =>
        new("t", 0, epoch, next, topicId, clusterId, DateTime.UtcNow);

    [Fact]
    public void WithoutALakePositionTheGroupOffsetDecidesAndNothingIsDeletedWithoutOne()
    {
        Assert.Equal(new ResumePlan(ResumeKind.Committed, 40, 0, 40, null, null), ResumePlan.Decide(null, 40, 0, 100, null, null));
        var none = ResumePlan.Decide(null, -1001, 5, 100, null, null);
        Assert.Equal((5L, (long?)null), (none.Offset, none.RemoveFrom));
    }

    [Theory]
    [InlineData(-1001L)] // offsets deleted or expired
    [InlineData(0L)]     // reset to earliest
    [InlineData(100L)]   // reset to latest
    [InlineData(60L)]    // as it should be
    public void TheLakePositionWinsOverAnyGroupOffset(long committed)
    {
        var plan = ResumePlan.Decide(Lake(60), committed, 0, 100, "T1", "C1");
        Assert.Equal((ResumeKind.LakePosition, 60L, 0, (long?)60), (plan.Kind, plan.Offset, plan.Epoch, plan.RemoveFrom));
    }

    [Fact]
    public void RetentionPastTheLakePositionGoesOnFromTheLogStart()
    {
        var plan = ResumePlan.Decide(Lake(60), 60, 80, 100, "T1", "C1");
        Assert.Equal((ResumeKind.PastRetention, 80L, 0), (plan.Kind, plan.Offset, plan.Epoch));
    }

    [Theory]
    [InlineData(50L, "T1", "C1")] // log end below the lake's position
    [InlineData(100L, "T2", "C1")] // another topic id
    [InlineData(100L, "T1", "C2")] // another cluster
    public void AnotherIncarnationStartsANewEpochAtTheLogStartAndDeletesNothing(long high, string topicId, string clusterId)
    {
        var plan = ResumePlan.Decide(Lake(60, epoch: 2), 60, 0, high, topicId, clusterId);
        Assert.Equal((ResumeKind.NewEpoch, 0L, 3, (long?)null), (plan.Kind, plan.Offset, plan.Epoch, plan.RemoveFrom));
    }

    [Fact]
    public void UnknownIdsAreNoEvidenceOfAnotherIncarnation()
    {
        Assert.Equal(ResumeKind.LakePosition, ResumePlan.Decide(Lake(60), 60, 0, 100, null, null).Kind);
        Assert.Equal(ResumeKind.LakePosition, ResumePlan.Decide(Lake(60, topicId: null, clusterId: null), 60, 0, 100, "T9", "C9").Kind);
    }

    [Fact]
    public void BatchFileNamesCarryTheEpochAndParseBack()
    {
        var old = EventFileNames.BatchFile("my-topic", 3, 42);
        var newer = EventFileNames.BatchFile("my-topic", 3, 42, epoch: 7);
        Assert.NotEqual(old, newer);
        Assert.True(EventFileNames.TryParseBatch(old, out var a));
        Assert.True(EventFileNames.TryParseBatch(newer, out var b));
        Assert.Equal(("my-topic", 3, 42L, 0), (a.Topic, a.Partition, a.FirstOffset, a.Epoch));
        Assert.Equal(("my-topic", 3, 42L, 7), (b.Topic, b.Partition, b.FirstOffset, b.Epoch));
        var at = (long next, int epoch) => Lake(next, epoch) with { Topic = "my-topic", Partition = 3 };
        Assert.True(at(43, 7).Holds(b));
        Assert.False(at(42, 7).Holds(b));
        Assert.True(at(0, 8).Holds(b));
        Assert.False(at(0, 6).Holds(b));
        Assert.False(Lake(100, 7).Holds(b)); // another partition's position
    }
}
