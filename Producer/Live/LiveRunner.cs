using System.Security.Cryptography;
using System.Diagnostics;
using Confluent.Kafka;
using CustomerData.Contracts;
using CustomerData.Producer.Events;
using CustomerData.Producer.Seeding;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace CustomerData.Producer.Live;

/// <summary>
/// The continuous mode: prepares the database (schema, and a seed of an empty one when asked), then appends
/// transactions and sends events at their rates until stopped. MySQL and Kafka are independent: either being
/// away pauses only its own stream, which retries with exponential backoff and resumes.
/// </summary>
public sealed class LiveRunner(
    ProducerOptions options,
    string? mySqlConnectionString,
    MySqlDataSource? dataSource,
    IProducer<string, byte[]>? producer,
    string? kafkaBootstrapServers,
    ILogger logger,
    TimeProvider? time = null,
    LiveStreamSwitch? streamSwitch = null)
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(200);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public long TransactionsAppended { get; private set; }
    public EventSender? Events { get; private set; }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires or <paramref name="duration"/> passes.</summary>
    public async Task RunAsync(bool seedIfEmpty, TimeSpan? duration, CancellationToken cancellationToken)
    {
        using var durationCts = duration is { } d ? new CancellationTokenSource(d, _time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, durationCts.Token);
        var token = linked.Token;
        var streams = new List<Task>();
        if (mySqlConnectionString is not null && dataSource is not null)
        {
            streams.Add(StopAllOnFailure(Task.Run(() => TransactionStreamAsync(seedIfEmpty, token), CancellationToken.None), linked));
        }
        if (options.EventRate > 0 && producer is not null)
        {
            Events = new EventSender(producer, options.Topic, logger);
            if (options.Format == EventFormat.Confluent)
            {
                Events.UseConfluentFraming(await EventSender.RegisterContractAsync(
                    options.SchemaRegistryUrl ?? throw new InvalidOperationException("--format confluent needs --schema-registry-url (Producer:SchemaRegistryUrl)."),
                    options.Topic, token));
            }
            // An async loop (it awaits its timer between sends): a LongRunning thread would only hold it until the
            // first await, so it runs on the pool like the transaction stream.
            streams.Add(StopAllOnFailure(Task.Run(() => EventStreamAsync(Events, token), CancellationToken.None), linked));
        }
        if (streams.Count == 0)
        {
            logger.LogWarning("Nothing to run: both rates are 0 or neither MySQL nor Kafka is configured");
            return;
        }
        try
        {
            await Task.WhenAll(streams);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested && streams.All(t => !t.IsFaulted))
        {
        }
        if (Events is not null)
        {
            var pending = Events.Flush(TimeSpan.FromSeconds(10));
            logger.LogInformation("Stopped: {Transactions} transactions appended; {Produced} events sent, {Delivered} acknowledged, {Failed} failed, {Pending} still pending",
                TransactionsAppended, Events.Produced, Events.Delivered, Events.Failed, pending);
        }
        else
        {
            logger.LogInformation("Stopped: {Transactions} transactions appended", TransactionsAppended);
        }
    }

    private async Task TransactionStreamAsync(bool seedIfEmpty, CancellationToken token)
    {
        var backoff = new Backoff(options.MaxRetryDelay);
        while (true)
        {
            try
            {
                // The schema is the Migrations project's (the AppHost starts the Producer after it); a missing table
                // fails this attempt with MySQL's message and the loop retries.
                var seeder = new Seeder(mySqlConnectionString!, logger, _time);
                if (seedIfEmpty)
                {
                    await seeder.SeedAsync(SeedPlan.From(options, _time), options.LoadMethod, options.SeedChunkRows, liveMode: true, token, options.SeedParallelism);
                }
                else if (await seeder.ReadStateAsync(token) is { Complete: false } state)
                {
                    // Appended rows would take txn_ids the stopped seed still has to write.
                    throw new InvalidOperationException(
                        $"A seed stopped half-way ({state.LoadedTransactions} of {state.Plan.Transactions} transactions loaded); run `seed` to finish it before `run`.");
                }
                break;
            }
            catch (Exception ex) when (!token.IsCancellationRequested && IsTransient(ex))
            {
                var delay = backoff.Next();
                logger.LogWarning("MySQL is unreachable while preparing the database ({Reason}); retrying in {DelaySeconds:F0} s", ex.Message, delay.TotalSeconds);
                await Task.Delay(delay, _time, token);
            }
        }
        if (options.TxnRate <= 0) return;

        var appender = new TransactionAppender(dataSource!, options.Seed, _time);
        using var traceWindow = new LiveTraceWindow("live transactions", options.TraceWindow, _time);
        var rate = new RateBudget(options.TxnRate, _time);
        backoff.Reset();
        var wasDown = false;
        using var timer = new PeriodicTimer(s_tick, _time);
        while (await timer.WaitForNextTickAsync(token))
        {
            if (streamSwitch?.IsPaused == true)
            {
                rate.Restart();
                continue;
            }
            var due = rate.Take();
            if (due == 0) continue;
            try
            {
                using (traceWindow.Enter()) TransactionsAppended += await appender.AppendAsync(due, token);
                if (wasDown) logger.LogInformation("MySQL is back; appending transactions again");
                wasDown = false;
                backoff.Reset();
            }
            catch (Exception ex) when (!token.IsCancellationRequested && IsTransient(ex))
            {
                wasDown = true;
                var delay = backoff.Next();
                logger.LogWarning("MySQL is unreachable ({Reason}); {Count} transactions not appended, retrying in {DelaySeconds:F0} s", ex.Message, due, delay.TotalSeconds);
                await Task.Delay(delay, _time, token);
                rate.Restart();
            }
        }
    }

    private async Task EventStreamAsync(EventSender sender, CancellationToken token)
    {
        // Event ids must never repeat across runs: a restarted Producer with a fixed seed would otherwise send the
        // very events (same UUIDs) of its last run again. Each run draws its own stream from the seed and a nonce.
        var generator = new EventGenerator(options.Seed ^ 0x5EED ^ RandomNumberGenerator.GetInt32(int.MaxValue), Math.Max(1, options.Customers), Math.Max(1, options.Products), options.MalformedRate, _time);
        var rate = new RateBudget(options.EventRate, _time);
        var backoff = new Backoff(options.MaxRetryDelay);
        // More than ~10 s of events unacknowledged means the broker is away: stop queueing and back off.
        var maxInFlight = (long)Math.Max(1_000, options.EventRate * 10);
        var wasDown = false;
        var failedSeen = 0L;
        using var traceWindow = new LiveTraceWindow("live events", options.TraceWindow, _time);
        using var timer = new PeriodicTimer(s_tick, _time);
        while (await timer.WaitForNextTickAsync(token))
        {
            if (sender.InFlight > maxInFlight || sender.Failed > failedSeen)
            {
                failedSeen = sender.Failed;
                wasDown = true;
                var delay = backoff.Next();
                logger.LogWarning("Kafka at {Bootstrap} is not acknowledging ({InFlight} events in flight, {Failed} failed, last error {LastError}); pausing events for {DelaySeconds:F0} s",
                    kafkaBootstrapServers, sender.InFlight, sender.Failed, sender.LastError ?? "none", delay.TotalSeconds);
                await Task.Delay(delay, _time, token);
                rate.Restart();
                continue;
            }
            if (streamSwitch?.IsPaused == true)
            {
                rate.Restart();
                continue;
            }
            if (wasDown)
            {
                logger.LogInformation("Kafka is acknowledging again; sending events");
                wasDown = false;
                backoff.Reset();
            }
            var due = rate.Take();
            if (due > 0)
            {
                using (traceWindow.Enter()) sender.SendBatch(generator, due, token);
            }
        }
    }

    /// <summary>A stream that fails for good stops the other one too, so the caller sees the failure instead of a half-running producer.</summary>
    private static async Task StopAllOnFailure(Task stream, CancellationTokenSource all)
    {
        try
        {
            await stream;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await all.CancelAsync();
            throw;
        }
    }

    internal static bool IsTransient(Exception ex) => ex is MySqlException or TimeoutException or System.Net.Sockets.SocketException or IOException
        || (ex is InvalidOperationException && ex.InnerException is not null && IsTransient(ex.InnerException));

    /// <summary>Turns a per-second rate into whole items per tick, carrying the fractions over.</summary>
    private sealed class RateBudget(double perSecond, TimeProvider time)
    {
        private long _last = time.GetTimestamp();
        private double _carry;

        public int Take()
        {
            var now = time.GetTimestamp();
            // Cap the catch-up at one second so a stall does not turn into a burst.
            _carry += perSecond * Math.Min(1.0, time.GetElapsedTime(_last, now).TotalSeconds);
            _last = now;
            var due = (int)_carry;
            _carry -= due;
            return due;
        }

        public void Restart()
        {
            _last = time.GetTimestamp();
            _carry = 0;
        }
    }

    private sealed class Backoff(TimeSpan max)
    {
        private TimeSpan _next = TimeSpan.FromSeconds(1);

        public TimeSpan Next()
        {
            var current = _next;
            _next = TimeSpan.FromTicks(Math.Min(max.Ticks, _next.Ticks * 2));
            return current;
        }

        public void Reset() => _next = TimeSpan.FromSeconds(1);
    }
}
