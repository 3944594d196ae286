using System.Diagnostics;

namespace CustomerData.Producer.Live;

/// <summary>
/// One root span per window of a live stream (<c>live events</c>, <c>live transactions</c>) holding that window's
/// sends or appends as children: at the demo rates one root per tick (five a second per stream) buried the pipelines'
/// cycles in the dashboard. Each send keeps its own span, so the <c>traceparent</c> of its messages (what Pipeline C
/// links its batches to) still names one send.
/// </summary>
public sealed class LiveTraceWindow(string name, TimeSpan length, TimeProvider time) : IDisposable
{
    private Activity? _window;
    private long _openedAt;
    private int _operations;

    /// <summary>Makes the current window's span the parent of what the caller starts until the scope ends; opens a new window when the last one is over.</summary>
    public Scope Enter()
    {
        var now = time.GetTimestamp();
        if (_window is not null && time.GetElapsedTime(_openedAt, now) >= length) Close();
        if (_window is null && ProducerTelemetry.Source.HasListeners())
        {
            var outer = Activity.Current;
            // A root of its own, whatever the caller runs under.
            Activity.Current = null;
            _window = ProducerTelemetry.Source.StartActivity(name);
            Activity.Current = outer;
            _openedAt = now;
            _operations = 0;
        }
        if (_window is null) return default;
        _operations++;
        var previous = Activity.Current;
        Activity.Current = _window;
        return new Scope(previous);
    }

    private void Close()
    {
        _window?.SetTag("producer.window.operations", _operations);
        _window?.Stop();
        _window = null;
    }

    public void Dispose() => Close();

    /// <summary>Restores the caller's current span.</summary>
    public readonly struct Scope(Activity? previous) : IDisposable
    {
        private readonly bool _entered = true;

        public void Dispose()
        {
            if (_entered) Activity.Current = previous;
        }
    }
}
