using System.Collections.Concurrent;
using CustomerData.Lake;
using Microsoft.Extensions.Logging;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>The real lake storage, counting the prefixes it is asked to list.</summary>
public sealed class ListingCountingLakeStorage(ILakeStorage inner) : CustomerData.TestServers.DelegatingLakeStorage(inner)
{
    public ConcurrentQueue<string> Listed { get; } = new();

    public override Task<IReadOnlyList<LakeObject>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        Listed.Enqueue(prefix);
        return base.ListAsync(prefix, cancellationToken);
    }
}

/// <summary>The real lake storage whose reads of matching keys fail while <see cref="Failing"/> is set (an unreachable store).</summary>
public sealed class FailingReadsLakeStorage(ILakeStorage inner, Func<string, bool> fails) : CustomerData.TestServers.DelegatingLakeStorage(inner)
{
    public volatile bool Failing = true;
    private int _failed;

    public int Failed => Volatile.Read(ref _failed);

    public override Task<byte[]?> ReadAsync(string key, CancellationToken cancellationToken = default)
    {
        if (Failing && fails(key))
        {
            Interlocked.Increment(ref _failed);
            throw new IOException($"test: the lake cannot read {key}");
        }
        return base.ReadAsync(key, cancellationToken);
    }
}

/// <summary>Keeps every log line (level, category, text) for assertions.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void Dispose() { }

    private sealed class CapturingLogger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) owner.Lines.Enqueue((logLevel, category, formatter(state, exception)));
        }
    }
}
