using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace CustomerData.Operations;

public enum OperationState
{
    Idle,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>What an admin operation is doing or last did, as the status endpoint answers it.</summary>
/// <param name="Request">What the running (or last) run was asked to do, e.g. the date range.</param>
/// <param name="Progress">The latest progress line of the run.</param>
/// <param name="Fraction">Done share 0..1 when the operation knows it.</param>
/// <param name="Result">The summary of the last finished run.</param>
/// <param name="Runs">Runs started since the process started.</param>
public sealed record OperationStatus(
    string Operation,
    OperationState State,
    string? Request,
    string? Progress,
    double? Fraction,
    DateTimeOffset? StartedUtc,
    DateTimeOffset? FinishedUtc,
    string? Result,
    string? Error,
    int Runs);

/// <summary>How a run reports how far it is: the status endpoint shows the latest line, the log gets each one.</summary>
public sealed class OperationProgress
{
    private readonly Action<string, double?> _report;

    internal OperationProgress(Action<string, double?> report) => _report = report;

    public void Report(string message, double? fraction = null) => _report(message, fraction is { } f ? Math.Clamp(f, 0, 1) : null);
}

/// <summary>
/// One kind of operator work (a rebuild, a compaction, a replay) that runs in the background, one run at a time: a start
/// while a run is going is refused (the endpoint answers 409). Each run is logged, traced as a span of
/// <see cref="ActivitySourceName"/>, and leaves its state, progress and result for the status endpoint.
/// </summary>
public sealed partial class AdminOperation(string name, string displayName, ILogger logger, TimeProvider time, CancellationToken stopping)
{
    public const string ActivitySourceName = "CustomerData.Operations";
    private static readonly ActivitySource s_source = new(ActivitySourceName);

    private readonly Lock _lock = new();
    private OperationStatus _status = new(name, OperationState.Idle, null, null, null, null, null, null, null, 0);
    private Task _running = Task.CompletedTask;

    public string Name => name;

    /// <summary>"profile rebuild": how logs and messages name it.</summary>
    public string DisplayName => displayName;

    public OperationStatus Status
    {
        get { lock (_lock) return _status; }
    }

    /// <summary>The current (or last) run; tests await it.</summary>
    public Task Running
    {
        get { lock (_lock) return _running; }
    }

    /// <summary>
    /// Starts <paramref name="work"/> in the background unless a run is going. Returns the status after the call:
    /// <see cref="OperationState.Running"/> with this request when started, the running one's status when refused.
    /// </summary>
    /// <param name="work">Does the work and returns a one-line result.</param>
    public bool TryStart(string request, Func<OperationProgress, CancellationToken, Task<string>> work, out OperationStatus status)
    {
        lock (_lock)
        {
            if (_status.State == OperationState.Running)
            {
                status = _status;
                LogRefused(displayName, _status.Request ?? "");
                return false;
            }
            _status = new OperationStatus(name, OperationState.Running, request, "started", 0, time.GetUtcNow(), null, null, null, _status.Runs + 1);
            status = _status;
            var requestContext = Activity.Current?.Context;
            _running = Task.Run(() => RunAsync(request, work, requestContext), CancellationToken.None);
            return true;
        }
    }

    private async Task RunAsync(string request, Func<OperationProgress, CancellationToken, Task<string>> work, ActivityContext? requestContext)
    {
        // A span of its own (the request that started it has long ended), linked to that request.
        Activity.Current = null;
        using var activity = s_source.StartActivity("admin " + name, ActivityKind.Internal, default(ActivityContext),
            links: requestContext is { } link ? [new ActivityLink(link)] : null);
        activity?.SetTag("admin.operation", name);
        activity?.SetTag("admin.request", request);
        LogStarted(displayName, request);
        var progress = new OperationProgress((message, fraction) =>
        {
            lock (_lock) _status = _status with { Progress = message, Fraction = fraction ?? _status.Fraction };
            LogProgress(displayName, message);
            activity?.AddEvent(new ActivityEvent("progress", tags: new ActivityTagsCollection { ["message"] = message }));
        });
        try
        {
            var result = await work(progress, stopping);
            Finish(OperationState.Succeeded, result, null);
            LogSucceeded(displayName, result);
            activity?.SetTag("admin.result", result);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            Finish(OperationState.Cancelled, null, "the service is stopping");
            LogCancelled(displayName);
        }
        catch (Exception ex)
        {
            Finish(OperationState.Failed, null, $"{ex.GetType().Name}: {ex.Message}");
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            LogFailed(ex, displayName);
        }
    }

    private void Finish(OperationState state, string? result, string? error)
    {
        lock (_lock)
        {
            _status = _status with
            {
                State = state,
                Result = result,
                Error = error,
                Fraction = state == OperationState.Succeeded ? 1 : _status.Fraction,
                FinishedUtc = time.GetUtcNow(),
            };
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Operator command: {Operation} started ({Request})")]
    private partial void LogStarted(string operation, string request);

    [LoggerMessage(Level = LogLevel.Information, Message = "Operator command: {Operation} progress: {Progress}")]
    private partial void LogProgress(string operation, string progress);

    [LoggerMessage(Level = LogLevel.Information, Message = "Operator command: {Operation} done: {Result}")]
    private partial void LogSucceeded(string operation, string result);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operator command: {Operation} cancelled, the service is stopping")]
    private partial void LogCancelled(string operation);

    [LoggerMessage(Level = LogLevel.Error, Message = "Operator command: {Operation} failed")]
    private partial void LogFailed(Exception exception, string operation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operator command: {Operation} refused, a run is going ({Request})")]
    private partial void LogRefused(string operation, string request);
}
