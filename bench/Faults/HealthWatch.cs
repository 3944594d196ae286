using System.Diagnostics;

namespace CustomerData.Bench.Faults;

/// <summary>
/// Polls services' /health every 250 ms in the background and keeps each change of answer with its time, so a scenario
/// can say what a service showed during a fault and when it was Healthy again.
/// </summary>
public sealed class HealthWatch : IAsyncDisposable
{
    private readonly List<(ChildService Service, List<(double At, string Status)> Changes)> _watched;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public HealthWatch(params ChildService[] services)
    {
        _watched = [.. services.Select(s => (s, new List<(double, string)>()))];
        _loop = Task.Run(LoopAsync);
    }

    public double Now => _clock.Elapsed.TotalSeconds;

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var (service, changes) in _watched)
            {
                var status = await service.HealthAsync();
                lock (changes)
                {
                    if (changes.Count == 0 || changes[^1].Status != status) changes.Add((Now, status));
                }
            }
            try { await Task.Delay(250, _stop.Token); } catch (OperationCanceledException) { }
        }
    }

    /// <summary>The answers other than Healthy seen from <paramref name="from"/> on, e.g. "Degraded, Unhealthy".</summary>
    public string NotHealthySince(ChildService service, double from)
    {
        var changes = Changes(service);
        // The answer in effect at `from` (the last change before it) and every change after it.
        var inEffect = changes.Where(c => c.At <= from).Select(c => c.Status).TakeLast(1).Concat(changes.Where(c => c.At > from).Select(c => c.Status));
        var seen = inEffect.Where(s => s != "Healthy").Distinct().ToList();
        return seen.Count == 0 ? "Healthy throughout" : string.Join(", ", seen);
    }

    /// <summary>Seconds from <paramref name="from"/> until the service answered Healthy (and stayed so to the end), or null.</summary>
    public double? HealthyAgainAfter(ChildService service, double from)
    {
        var changes = Changes(service);
        if (changes.Count == 0 || changes[^1].Status != "Healthy") return null;
        return Math.Max(0, changes[^1].At - from);
    }

    private List<(double At, string Status)> Changes(ChildService service)
    {
        var changes = _watched.First(w => w.Service == service).Changes;
        lock (changes) return [.. changes];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
