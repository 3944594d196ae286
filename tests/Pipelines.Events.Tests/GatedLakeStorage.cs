using CustomerData.Lake;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>
/// The real lake storage with a gate in front of some publishes: while the gate is closed, a publish whose key
/// matches waits (as a slow upload would, honouring cancellation) until the gate opens; then the real storage
/// does the write. Everything else goes straight through.
/// </summary>
public sealed class GatedLakeStorage(ILakeStorage inner, Func<string, bool> gated) : CustomerData.TestServers.DelegatingLakeStorage(inner)
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _blocked;

    /// <summary>Publishes that found the gate closed so far.</summary>
    public int Blocked => Volatile.Read(ref _blocked);

    public void Open() => _open.TrySetResult();

    public override async Task PublishAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        await WaitAtGateAsync(key, cancellationToken);
        await base.PublishAsync(key, content, cancellationToken);
    }

    public override async Task PublishAllAsync(IReadOnlyList<LakeWrite> writes, CancellationToken cancellationToken = default)
    {
        foreach (var write in writes) await WaitAtGateAsync(write.Key, cancellationToken);
        await base.PublishAllAsync(writes, cancellationToken);
    }

    public override async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        await WaitAtGateAsync(key, cancellationToken);
        return await base.TryCreateAsync(key, content, cancellationToken);
    }

    private async Task WaitAtGateAsync(string key, CancellationToken cancellationToken)
    {
        if (_open.Task.IsCompleted || !gated(key)) return;
        Interlocked.Increment(ref _blocked);
        await _open.Task.WaitAsync(cancellationToken);
    }
}
