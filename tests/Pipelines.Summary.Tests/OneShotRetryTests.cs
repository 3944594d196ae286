using CustomerData.Pipelines.Common;

namespace CustomerData.Pipelines.Summary.Tests;

/// <summary>The shared one-shot retry (Polly) both pipelines' <c>--once</c>/<c>--rebuild</c> go through.</summary>
public sealed class OneShotRetryTests
{
    private static readonly RetrySettings Fast = new(3, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(4));

    [Fact]
    public async Task A_failing_attempt_is_retried_with_its_number_and_a_later_success_wins()
    {
        var calls = 0;
        var retried = new List<int>();
        var ok = await OneShotRetry.RunAsync(_ =>
        {
            if (++calls < 3) throw new InvalidOperationException("transient");
            return Task.CompletedTask;
        }, Fast, (_, attempt, _) => retried.Add(attempt), (_, _) => Assert.Fail("gave up"), TestContext.Current.CancellationToken);

        Assert.True(ok);
        Assert.Equal(3, calls);
        Assert.Equal([1, 2], retried);
    }

    [Fact]
    public async Task After_the_last_attempt_it_gives_up_and_reports_how_many_ran()
    {
        var gaveUp = -1;
        var ok = await OneShotRetry.RunAsync(_ => throw new InvalidOperationException("down"), Fast, (_, _, _) => { }, (_, attempts) => gaveUp = attempts,
            TestContext.Current.CancellationToken);

        Assert.False(ok);
        Assert.Equal(3, gaveUp);
    }
}
