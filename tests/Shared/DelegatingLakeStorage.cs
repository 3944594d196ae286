using CustomerData.Lake;

namespace CustomerData.TestServers;

/// <summary>
/// The real lake storage behind a test decorator: every member forwards to <paramref name="inner"/>; a test overrides
/// the ones it gates or fails. Linked into the test projects that use the lake (see their .csproj).
/// </summary>
public abstract class DelegatingLakeStorage(ILakeStorage inner) : ILakeStorage
{
    public virtual string RootUri => inner.RootUri;

    public virtual Task PublishAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        inner.PublishAsync(key, content, cancellationToken);

    public virtual Task PublishAllAsync(IReadOnlyList<LakeWrite> writes, CancellationToken cancellationToken = default) =>
        inner.PublishAllAsync(writes, cancellationToken);

    public virtual Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        inner.TryCreateAsync(key, content, cancellationToken);

    public virtual Task<byte[]?> ReadAsync(string key, CancellationToken cancellationToken = default) => inner.ReadAsync(key, cancellationToken);

    public virtual Task<IReadOnlyList<LakeObject>> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public virtual Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
}
