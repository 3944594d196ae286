using CustomerData.Contracts;
using CustomerData.Lake;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>The real pipeline (AddEventsPipeline) in a generic host inside the test process.</summary>
public sealed class PipelineHost : IAsyncDisposable
{
    private readonly IHost _host;

    private PipelineHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;
    public IngestionState State => _host.Services.GetRequiredService<IngestionState>();

    public static async Task<PipelineHost> StartAsync(string bootstrap, string lakeRoot, string topic, string groupId,
        IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("EVENTS_TEST_LOG_DIR") is { Length: > 0 } logDir)
        {
            // Diagnostics on demand: every host's log lines in a file of its own.
            builder.Logging.AddProvider(new FileLoggerProvider(Path.Combine(logDir, $"{groupId}-{Guid.NewGuid():N}.log")));
        }
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = bootstrap,
            ["Lake:Root"] = lakeRoot,
            ["Events:Topic"] = topic,
            ["Events:GroupId"] = groupId,
            ["Events:Compaction:Enabled"] = "false",
        });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.AddEventsPipeline();
        services?.Invoke(builder.Services); // e.g. a test decorator around the real lake storage
        configure?.Invoke(builder); // e.g. ServiceDefaults' tracing with an in-memory exporter
        var host = builder.Build();
        await host.StartAsync();
        return new PipelineHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(cts.Token);
        _host.Dispose();
    }
}

public static class Lake
{
    /// <summary>Waits until the group's committed offsets reach the end of every partition of the topic.</summary>
    public static async Task WaitForCommittedAsync(string bootstrap, string topic, string groupId, int partitions, TimeSpan timeout,
        Func<string>? diagnostics = null)
    {
        using var reader = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = groupId }).Build();
        var tps = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList();
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var committed = reader.Committed(tps, TimeSpan.FromSeconds(5));
            var behind = committed.Select(c => (c.Partition.Value, Committed: c.Offset.Value,
                High: reader.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(5)).High.Value)).ToList();
            last = string.Join(", ", behind.Select(b => $"{b.Item1}:{b.Committed}/{b.High}"));
            if (behind.All(b => b.High == 0 ? true : b.Committed == b.High)) return;
            await Task.Delay(200);
        }
        throw new TimeoutException($"Group {groupId} did not commit up to the end of {topic} within {timeout}: {last}\n{diagnostics?.Invoke()}");
    }

    public static async Task<List<(string Key, LakeEvent Event)>> ReadAllEventsAsync(ILakeStorage lake, Func<string, bool>? fileFilter = null)
    {
        var result = new List<(string, LakeEvent)>();
        foreach (var o in await lake.ListAsync(LakeLayout.EventsTable + "/"))
        {
            if (!o.Key.EndsWith(".parquet", StringComparison.Ordinal) || !(fileFilter?.Invoke(o.Key) ?? true)) continue;
            foreach (var e in await EventParquet.ReadEventsAsync((await lake.ReadAsync(o.Key))!)) result.Add((o.Key, e));
        }
        return result;
    }

    public static async Task<List<MalformedEvent>> ReadAllMalformedAsync(ILakeStorage lake)
    {
        var result = new List<MalformedEvent>();
        foreach (var o in await lake.ListAsync(LakeLayout.EventsMalformed + "/"))
        {
            if (o.Key.EndsWith(".parquet", StringComparison.Ordinal)) result.AddRange(await EventParquet.ReadMalformedAsync((await lake.ReadAsync(o.Key))!));
        }
        return result;
    }

    /// <summary>Asserts every valid sent event is in the lake exactly once and every malformed one in the malformed area exactly once.</summary>
    public static async Task AssertExactlyOnceAsync(ILakeStorage lake, IReadOnlyList<SentEvent> sent)
    {
        var events = await ReadAllEventsAsync(lake);
        var seen = events.GroupBy(e => e.Event.EventId).ToDictionary(g => g.Key, g => g.Count());
        var duplicates = seen.Where(kv => kv.Value > 1).Select(kv => kv.Key).Take(5).ToList();
        Assert.True(duplicates.Count == 0, $"Duplicated events: {string.Join(", ", duplicates)}");
        var expectedValid = sent.Where(s => s.ExpectedReason is null).Select(s => s.EventId).ToHashSet();
        var missing = expectedValid.Where(id => !seen.ContainsKey(id)).Take(5).ToList();
        Assert.True(missing.Count == 0, $"{expectedValid.Count(id => !seen.ContainsKey(id))} events missing, e.g. {string.Join(", ", missing)}");
        Assert.Equal(expectedValid.Count, seen.Count);

        var malformed = await ReadAllMalformedAsync(lake);
        var malformedKeys = malformed.Select(m => (m.Partition, m.Offset)).ToList();
        Assert.Equal(malformedKeys.Count, malformedKeys.Distinct().Count());
        var expectedMalformed = sent.Where(s => s.ExpectedReason is not null).ToDictionary(s => (s.Partition, s.Offset), s => s.ExpectedReason);
        Assert.Equal(expectedMalformed.Count, malformed.Count);
        foreach (var m in malformed)
        {
            Assert.True(expectedMalformed.TryGetValue((m.Partition, m.Offset), out var reason), $"Unexpected malformed record {m.Partition}@{m.Offset}");
            Assert.Equal(reason, m.Reason);
        }
    }
}

/// <summary>Writes log lines to a file (only when EVENTS_TEST_LOG_DIR is set, to diagnose a failing run).</summary>
public sealed class FileLoggerProvider(string path) : ILoggerProvider
{
    private readonly Lock _lock = new();

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void Dispose() { }

    private void Write(string line)
    {
        lock (_lock) File.AppendAllText(path, line + Environment.NewLine);
    }

    private sealed class FileLogger(FileLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) owner.Write($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)} {exception}");
        }
    }
}
