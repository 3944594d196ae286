using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CustomerData.Producer;

/// <summary>The Producer's ActivitySource and Meter (exported by ServiceDefaults through the <c>CustomerData.</c> prefix).</summary>
internal static class ProducerTelemetry
{
    public const string Name = "CustomerData.Producer";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> SeededRows = Meter.CreateCounter<long>(
        "producer.seed.rows", "{row}", "Rows written by the seeder, by table.");
    public static readonly Counter<long> AppendedTransactions = Meter.CreateCounter<long>(
        "producer.transactions.appended", "{transaction}", "Live transactions appended to MySQL.");
    public static readonly Counter<long> EventsProduced = Meter.CreateCounter<long>(
        "producer.events.produced", "{event}", "Events handed to Kafka, by kind (valid or a malformed kind).");

    // Delivery reports arrive on librdkafka's poll thread at high rates: count with Interlocked, observe lazily.
    private static long s_eventsDelivered;
    private static long s_eventsFailed;

    public static void EventDelivered() => Interlocked.Increment(ref s_eventsDelivered);
    public static void EventFailed() => Interlocked.Increment(ref s_eventsFailed);

    private static double s_seedProgress;
    private static double s_seedEtaSeconds;
    private static double s_seedRowsPerSecond;

    static ProducerTelemetry()
    {
        Meter.CreateObservableCounter("producer.events.delivered", () => Interlocked.Read(ref s_eventsDelivered), "{event}",
            "Events acknowledged by Kafka.");
        Meter.CreateObservableCounter("producer.events.failed", () => Interlocked.Read(ref s_eventsFailed), "{event}",
            "Events Kafka reported as not delivered.");
        Meter.CreateObservableGauge("producer.seed.progress", () => Volatile.Read(ref s_seedProgress), "1",
            "Share of the seed's transactions loaded (0..1).");
        Meter.CreateObservableGauge("producer.seed.eta", () => Volatile.Read(ref s_seedEtaSeconds), "s",
            "Estimated seconds until the seed completes.");
        Meter.CreateObservableGauge("producer.seed.rate", () => Volatile.Read(ref s_seedRowsPerSecond), "{row}/s",
            "Transactions loaded per second by the running seed.");
    }

    public static void ReportSeedProgress(double progress, double rowsPerSecond, double etaSeconds)
    {
        Volatile.Write(ref s_seedProgress, progress);
        Volatile.Write(ref s_seedRowsPerSecond, rowsPerSecond);
        Volatile.Write(ref s_seedEtaSeconds, etaSeconds);
    }
}
