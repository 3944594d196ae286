using Microsoft.Extensions.Logging;

namespace CustomerData.Pipelines.Summary.Tests;

/// <summary>Keeps every log entry (level, message, structured values) so a test can assert what was reported.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    private readonly Lock _lock = new();
    private readonly List<(LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Values)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Values)> Entries
    {
        get { lock (_lock) return [.. _entries]; }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? pairs.ToDictionary(p => p.Key, p => p.Value)
            : new Dictionary<string, object?>();
        lock (_lock) _entries.Add((logLevel, formatter(state, exception), values));
    }
}
