using System.Globalization;
using CustomerData.Contracts;
using Parquet;
using Parquet.Schema;

namespace CustomerData.Pipelines.Events;

/// <summary>The §4 events schema and the malformed-area schema, with Parquet read/write of whole files.</summary>
public static class EventParquet
{
    public static readonly DataField EventId = new("event_id", typeof(string), isNullable: false);
    public static readonly DataField CustomerId = new("customer_id", typeof(int), isNullable: false);
    public static readonly DataField EventType = new("event_type", typeof(string), isNullable: false);
    public static readonly DataField ProductId = new("product_id", typeof(int), isNullable: true);
    // TIMESTAMP(isAdjustedToUTC=true, MICROS): DuckDB reads it as TIMESTAMP WITH TIME ZONE.
    public static readonly DateTimeDataField EventTimestamp = new("event_timestamp", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);
    public static readonly DateTimeDataField IngestionTimestamp = new("ingestion_timestamp", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);

    public static readonly ParquetSchema EventsSchema = new(EventId, CustomerId, EventType, ProductId, EventTimestamp, IngestionTimestamp);

    public static readonly DataField RawBase64 = new("raw_base64", typeof(string), isNullable: false);
    public static readonly DataField Reason = new("reason", typeof(string), isNullable: false);
    public static readonly DataField Detail = new("detail", typeof(string), isNullable: false);
    public static readonly DataField Topic = new("topic", typeof(string), isNullable: false);
    public static readonly DataField Partition = new("partition", typeof(int), isNullable: false);
    public static readonly DataField Offset = new("offset", typeof(long), isNullable: false);
    public static readonly DateTimeDataField KafkaTimestamp = new("kafka_timestamp", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);

    public static readonly ParquetSchema MalformedSchema = new(RawBase64, Reason, Detail, Topic, Partition, Offset, KafkaTimestamp, IngestionTimestamp);

    private static ParquetOptions WriteOptions => new() { CompressionMethod = CompressionMethod.Snappy };

    // Files are built in pooled blocks and copied out once: a MemoryStream per file would put one or two
    // large-object arrays per batch on the heap (they trigger gen2 collections). Pools capped so idle memory is returned.
    private static readonly Microsoft.IO.RecyclableMemoryStreamManager s_buffers = new(new Microsoft.IO.RecyclableMemoryStreamManager.Options
    {
        MaximumSmallPoolFreeBytes = 64 * 1024 * 1024,
        MaximumLargePoolFreeBytes = 64 * 1024 * 1024,
    });

    /// <summary>Writes events in the given order, <paramref name="rowGroupRows"/> rows per row group.</summary>
    public static async Task<byte[]> WriteEventsAsync(IReadOnlyList<LakeEvent> events, int rowGroupRows,
        IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        using var stream = s_buffers.GetStream(nameof(WriteEventsAsync));
        await using (var writer = await ParquetWriter.CreateAsync(EventsSchema, stream, WriteOptions, cancellationToken: cancellationToken))
        {
            if (metadata is not null) writer.CustomMetadata = new Dictionary<string, string>(metadata);
            for (var start = 0; start < events.Count || start == 0; start += rowGroupRows)
            {
                var count = Math.Min(rowGroupRows, events.Count - start);
                var ids = new string[count];
                var customers = new int[count];
                var types = new string[count];
                var products = new int?[count];
                var eventTimes = new DateTime[count];
                var ingestionTimes = new DateTime[count];
                for (var i = 0; i < count; i++)
                {
                    var e = events[start + i];
                    ids[i] = e.EventId;
                    customers[i] = e.CustomerId;
                    types[i] = e.EventType;
                    products[i] = e.ProductId;
                    eventTimes[i] = e.EventTimestamp;
                    ingestionTimes[i] = e.IngestionTimestamp;
                }
                using var rowGroup = writer.CreateRowGroup();
                await rowGroup.WriteAsync(EventId, ids);
                await rowGroup.WriteAsync<int>(CustomerId, customers, cancellationToken: cancellationToken);
                await rowGroup.WriteAsync(EventType, types);
                await rowGroup.WriteAsync<int>(ProductId, products, cancellationToken: cancellationToken);
                await rowGroup.WriteAsync<DateTime>(EventTimestamp, eventTimes, cancellationToken: cancellationToken);
                await rowGroup.WriteAsync<DateTime>(IngestionTimestamp, ingestionTimes, cancellationToken: cancellationToken);
                if (count == 0) break;
            }
        }
        var content = GC.AllocateUninitializedArray<byte>(checked((int)stream.Length));
        stream.Position = 0;
        stream.ReadExactly(content);
        return content;
    }

    public static async Task<List<LakeEvent>> ReadEventsAsync(byte[] file, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(file, writable: false);
        await using var reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken);
        var result = new List<LakeEvent>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            var rowGroup = reader.OpenRowGroupReader(g);
            var n = (int)rowGroup.RowCount;
            var ids = new string[n];
            var customers = new int[n];
            var types = new string[n];
            var products = new int?[n];
            var eventTimes = new DateTime[n];
            var ingestionTimes = new DateTime[n];
            await rowGroup.ReadAsync(EventId, ids, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync<int>(CustomerId, customers, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync(EventType, types, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync<int>(ProductId, products, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync<DateTime>(EventTimestamp, eventTimes, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync<DateTime>(IngestionTimestamp, ingestionTimes, cancellationToken: cancellationToken);
            for (var i = 0; i < n; i++)
            {
                result.Add(new LakeEvent(ids[i], customers[i], types[i], products[i],
                    DateTime.SpecifyKind(eventTimes[i], DateTimeKind.Utc), DateTime.SpecifyKind(ingestionTimes[i], DateTimeKind.Utc)));
            }
        }
        return result;
    }

    public static async Task<byte[]> WriteMalformedAsync(IReadOnlyList<MalformedEvent> records, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(MalformedSchema, stream, WriteOptions, cancellationToken: cancellationToken))
        {
            using var rowGroup = writer.CreateRowGroup();
            await rowGroup.WriteAsync(RawBase64, records.Select(r => r.RawBase64).ToArray());
            await rowGroup.WriteAsync(Reason, records.Select(r => r.Reason).ToArray());
            await rowGroup.WriteAsync(Detail, records.Select(r => r.Detail).ToArray());
            await rowGroup.WriteAsync(Topic, records.Select(r => r.Topic).ToArray());
            await rowGroup.WriteAsync<int>(Partition, records.Select(r => r.Partition).ToArray(), cancellationToken: cancellationToken);
            await rowGroup.WriteAsync<long>(Offset, records.Select(r => r.Offset).ToArray(), cancellationToken: cancellationToken);
            await rowGroup.WriteAsync<DateTime>(KafkaTimestamp, records.Select(r => r.KafkaTimestamp).ToArray(), cancellationToken: cancellationToken);
            await rowGroup.WriteAsync<DateTime>(IngestionTimestamp, records.Select(r => r.IngestionTimestamp).ToArray(), cancellationToken: cancellationToken);
        }
        return stream.ToArray();
    }

    public static async Task<List<MalformedEvent>> ReadMalformedAsync(byte[] file, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(file, writable: false);
        await using var reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken);
        var result = new List<MalformedEvent>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            var rowGroup = reader.OpenRowGroupReader(g);
            var n = (int)rowGroup.RowCount;
            var raw = new string[n];
            var reasons = new string[n];
            var details = new string[n];
            var topics = new string[n];
            var partitions = new int[n];
            var offsets = new long[n];
            var kafkaTimes = new DateTime[n];
            var ingestionTimes = new DateTime[n];
            await rowGroup.ReadAsync(RawBase64, raw, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync(Reason, reasons, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync(Detail, details, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync(Topic, topics, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync<int>(Partition, partitions, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync<long>(Offset, offsets, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync<DateTime>(KafkaTimestamp, kafkaTimes, cancellationToken: cancellationToken);
            await rowGroup.ReadAsync<DateTime>(IngestionTimestamp, ingestionTimes, cancellationToken: cancellationToken);
            for (var i = 0; i < n; i++)
            {
                result.Add(new MalformedEvent(raw[i], reasons[i], details[i], topics[i], partitions[i], offsets[i],
                    DateTime.SpecifyKind(kafkaTimes[i], DateTimeKind.Utc), DateTime.SpecifyKind(ingestionTimes[i], DateTimeKind.Utc)));
            }
        }
        return result;
    }
}
