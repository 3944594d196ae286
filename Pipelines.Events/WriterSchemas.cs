using System.Collections.Concurrent;
using Avro;
using Avro.Generic;
using Avro.IO;
using Confluent.SchemaRegistry;
using CustomerData.Contracts;

namespace CustomerData.Pipelines.Events;

/// <summary>One writer schema of the Confluent wire format, as the decoder needs it.</summary>
/// <param name="IsContract">The writer schema is the contract's own (same parsing canonical form): the hand-written fast path reads it.</param>
/// <param name="Resolver">Otherwise: Apache.Avro's reader of the writer schema resolved to the contract (added fields with defaults, removed, reordered, promoted).</param>
public sealed record WriterSchema(int Id, bool IsContract, GenericDatumReader<GenericRecord>? Resolver);

/// <summary>
/// Writer schemas by Confluent schema id, fetched from the schema registry (<c>Events:SchemaRegistry:Url</c>) once per
/// id and kept: a schema id never changes its schema. Without a registry, framed messages are read as the contract.
/// </summary>
public sealed class WriterSchemas(ISchemaRegistryClient? registry, TimeSpan timeout) : IDisposable
{
    private static readonly string s_contract = SchemaNormalization.ToParsingForm(CustomerEventSchema.Schema);
    private readonly ConcurrentDictionary<int, WriterSchema?> _byId = new();

    public bool HasRegistry => registry is not null;

    /// <summary>
    /// The writer schema of <paramref name="id"/>, or null when the registry does not know the id. A registry that
    /// cannot be reached throws: the batch's write fails and is retried, nothing is set apart for it.
    /// </summary>
    public WriterSchema? Get(int id)
    {
        if (_byId.TryGetValue(id, out var known)) return known;
        if (registry is null) return null;
        WriterSchema? resolved;
        try
        {
            var text = registry.GetSchemaAsync(id).WaitAsync(timeout).GetAwaiter().GetResult();
            if (text.SchemaType != SchemaType.Avro)
            {
                resolved = null;
            }
            else
            {
                var writer = Avro.Schema.Parse(text.SchemaString);
                resolved = SchemaNormalization.ToParsingForm(writer) == s_contract
                    ? new WriterSchema(id, true, null)
                    : new WriterSchema(id, false, new GenericDatumReader<GenericRecord>(writer, CustomerEventSchema.Schema));
            }
        }
        catch (SchemaRegistryException ex) when (ex.ErrorCode is 40403 or 404)
        {
            resolved = null; // not found (kept: an id the registry never had will not appear later... nor should it be fetched per message)
        }
        catch (AvroException)
        {
            resolved = null; // a schema that cannot be resolved to the contract: its messages are unknown to us
        }
        _byId[id] = resolved;
        return resolved;
    }

    /// <summary>Reads one record of <paramref name="writer"/> into the contract's fields; false (with a detail) when it does not decode exactly.</summary>
    public static bool TryResolve(WriterSchema writer, ReadOnlySpan<byte> body, out GenericRecord? record, out string detail)
    {
        record = null;
        try
        {
            using var stream = new MemoryStream(body.ToArray(), writable: false);
            record = writer.Resolver!.Read(null!, new BinaryDecoder(stream));
            if (stream.Position != stream.Length)
            {
                detail = $"{stream.Length - stream.Position} trailing byte(s) after the record (schema id {writer.Id})";
                return false;
            }
            detail = "";
            return true;
        }
        catch (Exception ex) when (ex is AvroException or EndOfStreamException or IOException or InvalidCastException or ArgumentException or OverflowException)
        {
            detail = $"schema id {writer.Id}: {ex.GetType().Name}";
            return false;
        }
    }

    public void Dispose() => (registry as IDisposable)?.Dispose();
}
