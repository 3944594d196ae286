namespace CustomerData.Lake;

/// <summary>
/// An object in the lake: its key relative to the root, size and last write, and on S3 its ETag (S3 and s3rver keep
/// write times to the second, so two writes of one size within a second differ only by their ETag).
/// </summary>
public sealed record LakeObject(string Key, long Size, DateTimeOffset LastModified, string? ETag = null);

/// <summary>One object to publish: its key relative to the root and its whole content.</summary>
public readonly record struct LakeWrite(string Key, ReadOnlyMemory<byte> Content);

/// <summary>
/// The lake, on S3 or in a local folder: one abstraction, two backends.
/// Keys are relative to the root and use '/'.
/// </summary>
public interface ILakeStorage
{
    /// <summary>The root as DuckDB and people see it: <c>s3://bucket/prefix</c> or an absolute folder path.</summary>
    string RootUri { get; }

    /// <summary>
    /// Publishes <paramref name="content"/> at <paramref name="key"/> atomically for readers:
    /// they see the old object or the new one, never a partial one (local: temp file, fsync,
    /// rename; S3: one PUT of the final key). Replaces an existing object.
    /// </summary>
    Task PublishAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Publishes several objects (distinct keys), each atomically for readers as <see cref="PublishAsync"/> does,
    /// all of them durable when the task completes. Objects may become visible one by one before then. Cheaper than
    /// one <see cref="PublishAsync"/> per object: the local folder flushes the disk twice per call instead of twice per
    /// file; S3 sends the PUTs concurrently. On failure some objects may be published and others not, each whole.
    /// </summary>
    Task PublishAllAsync(IReadOnlyList<LakeWrite> writes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Publishes <paramref name="content"/> at <paramref name="key"/> only if no object is there yet, atomically
    /// for readers like <see cref="PublishAsync"/>. Returns false (and changes nothing) when the key exists:
    /// of two writers racing for one key exactly one wins (local: rename without overwrite; S3: conditional
    /// PUT <c>If-None-Match: *</c>). Meant for commit points such as manifests.
    /// </summary>
    Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>The whole object, or null when there is none.</summary>
    Task<byte[]?> ReadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Every object whose key starts with <paramref name="prefix"/>, in key order.</summary>
    Task<IReadOnlyList<LakeObject>> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Removes the object; no error when it is already gone.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);
}
