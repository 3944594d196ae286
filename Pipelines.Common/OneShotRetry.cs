using Polly;
using Polly.Retry;

namespace CustomerData.Pipelines.Common;

/// <summary>Attempts and exponential backoff of a one-shot run (<c>--once</c>, <c>--rebuild</c>).</summary>
public sealed record RetrySettings(int MaxAttempts, TimeSpan InitialDelay, TimeSpan MaxDelay);

/// <summary>Runs a one-shot unit of work with retries (Polly), as both pipelines' <c>--once</c>/<c>--rebuild</c> do.</summary>
public static class OneShotRetry
{
    /// <summary>
    /// Runs <paramref name="work"/> up to <see cref="RetrySettings.MaxAttempts"/> times, the delay doubling from
    /// <see cref="RetrySettings.InitialDelay"/> up to <see cref="RetrySettings.MaxDelay"/>. True when an attempt
    /// succeeded; false when the last one failed (<paramref name="onGaveUp"/>) or the run was cancelled.
    /// </summary>
    public static async Task<bool> RunAsync(Func<CancellationToken, Task> work, RetrySettings settings,
        Action<Exception, int, TimeSpan> onRetry, Action<Exception, int> onGaveUp, CancellationToken cancellationToken)
    {
        var attempts = 0;
        var pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(0, settings.MaxAttempts - 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                Delay = settings.InitialDelay,
                MaxDelay = settings.MaxDelay,
                // A cancellation of the run itself is not a failure to retry.
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested),
                OnRetry = args =>
                {
                    if (args.Outcome.Exception is { } ex) onRetry(ex, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        try
        {
            await pipeline.ExecuteAsync(async ct =>
            {
                attempts++;
                await work(ct);
            }, cancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex)
        {
            onGaveUp(ex, attempts);
            return false;
        }
    }
}
