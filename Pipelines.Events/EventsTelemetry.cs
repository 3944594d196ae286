using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CustomerData.Pipelines.Events;

/// <summary>Spans and metrics of Pipeline C (exported by ServiceDefaults: the names start with <c>CustomerData.</c>).</summary>
public static class EventsTelemetry
{
    public const string Name = "CustomerData.Events";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    /// <summary>A batch's root span (kind Consumer), linked to the producers' spans its messages carried (<c>traceparent</c>).</summary>
    internal static Activity? StartBatchSpan(PartitionBatch batch, DateTimeOffset startedAt)
    {
        // A root whatever the caller runs under.
        var outer = Activity.Current;
        Activity.Current = null;
        var span = Source.StartActivity("events.batch", ActivityKind.Consumer, parentContext: default, links: batch.Links, startTime: startedAt);
        Activity.Current = outer;
        return span;
    }

    public static readonly Counter<long> EventsWritten = Meter.CreateCounter<long>("events.written", "{event}", "Valid events written to the lake (rate = events/s).");
    public static readonly Counter<long> Malformed = Meter.CreateCounter<long>("events.malformed", "{event}", "Malformed messages set apart, by reason.");
    public static readonly Counter<long> MalformedAlerts = Meter.CreateCounter<long>("events.malformed.threshold_exceeded", "{batch}", "Batches whose malformed share passed the threshold.");
    public static readonly Histogram<double> BatchDuration = Meter.CreateHistogram<double>("events.batch.duration", "s", "Time to write and commit one batch.");
    public static readonly Counter<long> BatchFailures = Meter.CreateCounter<long>("events.batch.failures", "{batch}", "Batch writes or commits that failed and will be retried.");
    public static readonly Counter<long> OffsetsPastRetention = Meter.CreateCounter<long>("events.offsets.past_retention", "{message}", "Messages retention deleted before the lake got them (the lake's position was below the log start).");
    public static readonly Histogram<double> GlobOverlap = Meter.CreateHistogram<double>("events.compaction.glob_overlap", "s", "Time from a compaction's switch until its replaced files left the day folder (a plain glob sees both meanwhile).");
    public static readonly Counter<long> Compactions = Meter.CreateCounter<long>("events.compactions", "{compaction}", "Day compactions published.");

    private static readonly ConcurrentDictionary<int, long> s_lag = new();
    private static readonly ConcurrentDictionary<string, int> s_filesPerDay = new();
    private static long s_rateWindowStart = Stopwatch.GetTimestamp();
    private static long s_rateWindowEvents;
    private static double s_lastRate;

    static EventsTelemetry()
    {
        Meter.CreateObservableGauge("events.consumer.lag", ObserveLag, "{message}", "Messages between the committed offset and the partition's end, per partition.");
        Meter.CreateObservableGauge("events.files_per_day", ObserveFiles, "{file}", "Readable Parquet files per event_date (last compactor pass).");
        Meter.CreateObservableGauge("events.throughput", () => Rate(), "{event}/s", "Valid events written per second, over the last observation window.");
    }

    public static void SetLag(int partition, long lag) => s_lag[partition] = Math.Max(0, lag);
    public static void ForgetLag(int partition) => s_lag.TryRemove(partition, out _);
    public static void SetFilesPerDay(string day, int files) => s_filesPerDay[day] = files;

    /// <summary>Drops the files-per-day values of days not in <paramref name="days"/>.</summary>
    public static void RetainFilesPerDay(IReadOnlySet<string> days)
    {
        foreach (var day in s_filesPerDay.Keys)
        {
            if (!days.Contains(day)) s_filesPerDay.TryRemove(day, out _);
        }
    }

    public static void RecordWritten(long events)
    {
        EventsWritten.Add(events);
        Interlocked.Add(ref s_rateWindowEvents, events);
    }

    private static double Rate()
    {
        var now = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(Interlocked.Read(ref s_rateWindowStart), now).TotalSeconds;
        if (elapsed < 1) return s_lastRate;
        var events = Interlocked.Exchange(ref s_rateWindowEvents, 0);
        Interlocked.Exchange(ref s_rateWindowStart, now);
        return s_lastRate = events / elapsed;
    }

    private static IEnumerable<Measurement<long>> ObserveLag() =>
        s_lag.Select(kv => new Measurement<long>(kv.Value, new KeyValuePair<string, object?>("messaging.destination.partition.id", kv.Key)));

    private static IEnumerable<Measurement<int>> ObserveFiles() =>
        s_filesPerDay.Select(kv => new Measurement<int>(kv.Value, new KeyValuePair<string, object?>("event_date", kv.Key)));
}
