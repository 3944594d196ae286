using System.Globalization;
using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;
using CustomerData.Contracts;

namespace CustomerData.Bench.Faults;

/// <summary>
/// Behaviour events while a scenario runs: Avro events at a fixed rate (1 % malformed bytes) with the producer's
/// delivery reports kept, so the expected lake is exactly the valid events the cluster acknowledged.
/// </summary>
public sealed class EventFlow : IAsyncDisposable
{
    private readonly IProducer<byte[], byte[]> _producer;
    private readonly HashSet<string> _delivered = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _failed;

    public EventFlow(string bootstrapServers, string topic, int eventsPerSecond)
    {
        _producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers, LingerMs = 5, EnableIdempotence = true, MessageTimeoutMs = 300_000,
        }).Build();
        _loop = Task.Run(() => LoopAsync(topic, eventsPerSecond));
    }

    public int Malformed { get; private set; }
    public int Failed => Volatile.Read(ref _failed);

    private async Task LoopAsync(string topic, int eventsPerSecond)
    {
        var writer = new GenericDatumWriter<GenericRecord>(CustomerEventSchema.Schema);
        var random = new Random(5);
        var sent = 0L;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!_stop.IsCancellationRequested)
        {
            // Wait for the next slot of the rate.
            var wait = TimeSpan.FromSeconds((double)sent / eventsPerSecond) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
                continue;
            }
            var customer = 1 + random.Next(1_000);
            var id = Guid.NewGuid().ToString();
            byte[] value;
            if (random.Next(100) == 0)
            {
                value = [0xde, 0xad, 0xbe, 0xef];
                Malformed++;
            }
            else
            {
                var record = new GenericRecord(CustomerEventSchema.Schema);
                record.Add("event_id", id);
                record.Add("customer_id", customer);
                record.Add("event_type", CustomerEventSchema.EventTypes[random.Next(3)]);
                record.Add("product_id", random.Next(1, 500));
                record.Add("event_timestamp", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                using var stream = new MemoryStream();
                writer.Write(record, new BinaryEncoder(stream));
                value = stream.ToArray();
            }
            var valid = value.Length > 4;
            var message = new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(customer.ToString(CultureInfo.InvariantCulture)), Value = value };
            try
            {
                _producer.Produce(topic, message, report =>
                {
                    if (report.Error.IsError) Interlocked.Increment(ref _failed);
                    else if (valid) lock (_delivered) _delivered.Add(id);
                });
                sent++;
            }
            catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    /// <summary>Stops sending, waits for every delivery report; returns the ids of the valid events the cluster acknowledged.</summary>
    public async Task<HashSet<string>> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _producer.Flush(TimeSpan.FromMinutes(5));
        lock (_delivered) return [.. _delivered];
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        _producer.Dispose();
        _stop.Dispose();
    }
}
