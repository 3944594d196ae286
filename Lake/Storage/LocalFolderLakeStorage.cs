using System.Runtime.InteropServices;

namespace CustomerData.Lake;

/// <summary>
/// A lake in a local folder. Publishing writes a hidden temp file beside the target, flushes it to disk,
/// renames it over the target and flushes the folder, so the rename itself survives a power loss.
/// <see cref="PublishAllAsync"/> does the same for many files with two flushes of the file system in all.
/// </summary>
public sealed class LocalFolderLakeStorage : ILakeStorage
{
    private const string TempSuffix = ".tmp";
    private readonly string _root;

    public LocalFolderLakeStorage(string root)
    {
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    public string RootUri => _root;

    private const string Backend = "local";

    public Task PublishAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        WriteAsync(key, content, overwrite: true, cancellationToken);

    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        WriteAsync(key, content, overwrite: false, cancellationToken);

    private async Task<bool> WriteAsync(string key, ReadOnlyMemory<byte> content, bool overwrite, CancellationToken cancellationToken)
    {
        using var activity = LakeTelemetry.Start(overwrite ? "publish" : "create", Backend, key, content.Length);
        try
        {
            var created = await WriteFileAtomicallyAsync(key, content, overwrite, cancellationToken);
            activity?.SetTag("lake.created", created);
            return created;
        }
        catch (Exception ex) when (LakeTelemetry.Fail(activity, ex))
        {
            throw;
        }
    }

    private async Task<bool> WriteFileAtomicallyAsync(string key, ReadOnlyMemory<byte> content, bool overwrite, CancellationToken cancellationToken)
    {
        var target = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = TempPathFor(target);
        try
        {
            await WriteFileAsync(temp, content, flushToDisk: true, cancellationToken);
            // A publish cancelled while it wrote never becomes visible (writers fence stale publishes this way).
            cancellationToken.ThrowIfCancellationRequested();
            if (overwrite)
            {
                File.Move(temp, target, overwrite: true);
            }
            else if (!LocalFileDurability.MoveIfAbsent(temp, target))
            {
                File.Delete(temp);
                return false;
            }
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        // Callers commit offsets right after publishing: the new directory entry must be on disk by then.
        LocalFileDurability.FlushFolder(Path.GetDirectoryName(target)!);
        return true;
    }

    /// <summary>
    /// Writes every object to its temp file first, then makes them all durable with one flush of the file system
    /// (<c>syncfs</c> on Linux; elsewhere one fsync per file), then renames each over its target and flushes again
    /// (<c>syncfs</c>, or one fsync per folder). A rename never points at content that is not on disk, and every
    /// object is durable when this returns: the guarantees of <see cref="PublishAsync"/> with two disk flushes in all.
    /// </summary>
    public async Task PublishAllAsync(IReadOnlyList<LakeWrite> writes, CancellationToken cancellationToken = default)
    {
        LakeWrites.EnsureDistinctKeys(writes);
        if (writes.Count == 0) return;
        // One span for the call: its files share the two disk flushes, so their times cannot be told apart.
        using var activity = LakeTelemetry.Start("publish_all", Backend, writes[0].Key, writes.Sum(w => (long)w.Content.Length));
        activity?.SetTag("lake.objects", writes.Count);
        try
        {
            await PublishStagedAsync(writes, cancellationToken);
        }
        catch (Exception ex) when (LakeTelemetry.Fail(activity, ex))
        {
            throw;
        }
    }

    private async Task PublishStagedAsync(IReadOnlyList<LakeWrite> writes, CancellationToken cancellationToken)
    {
        // Opened before any temp file is written: syncfs reports the write-back errors seen since its fd was opened
        // (Linux 5.8 and later), so an error on one of these files cannot slip by.
        var rootFd = OperatingSystem.IsLinux() ? OpenRoot() : -1;
        try
        {
            var staged = new List<(string Temp, string Target)>(writes.Count);
            var renamed = 0;
            try
            {
                foreach (var write in writes)
                {
                    var target = PathOf(write.Key);
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    var temp = TempPathFor(target);
                    staged.Add((temp, target));
                    await WriteFileAsync(temp, write.Content, flushToDisk: rootFd < 0, cancellationToken);
                }
                if (rootFd >= 0) LocalFileDurability.SyncFileSystem(rootFd);
                // As in PublishAsync: a publish cancelled while it wrote never becomes visible.
                cancellationToken.ThrowIfCancellationRequested();
                for (; renamed < staged.Count; renamed++) File.Move(staged[renamed].Temp, staged[renamed].Target, overwrite: true);
            }
            catch
            {
                foreach (var (temp, _) in staged.Skip(renamed)) File.Delete(temp);
                throw;
            }
            if (rootFd >= 0) LocalFileDurability.SyncFileSystem(rootFd);
            else
            {
                foreach (var folder in staged.Select(s => Path.GetDirectoryName(s.Target)!).Distinct(StringComparer.Ordinal)) LocalFileDurability.FlushFolder(folder);
            }
        }
        finally
        {
            if (rootFd >= 0) LocalFileDurability.Posix.Close(rootFd);
        }
    }

    // A leading dot keeps readers' globs (*.parquet) off the file while it is written.
    private static string TempPathFor(string target) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}{TempSuffix}");

    private static async Task WriteFileAsync(string path, ReadOnlyMemory<byte> content, bool flushToDisk, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await stream.WriteAsync(content, cancellationToken);
        if (flushToDisk) stream.Flush(flushToDisk: true);
    }

    private int OpenRoot()
    {
        var fd = LocalFileDurability.Posix.Open(_root, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"Could not open the lake folder {_root} to flush it (errno {Marshal.GetLastPInvokeError()}).");
        return fd;
    }


    public async Task<byte[]?> ReadAsync(string key, CancellationToken cancellationToken = default)
    {
        using var activity = LakeTelemetry.Start("read", Backend, key);
        var path = PathOf(key);
        try
        {
            var content = await File.ReadAllBytesAsync(path, cancellationToken);
            activity?.SetTag("lake.bytes", content.Length);
            return content;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            activity?.SetTag("lake.found", false);
            return null;
        }
        catch (Exception ex) when (LakeTelemetry.Fail(activity, ex))
        {
            throw;
        }
    }

    public Task<IReadOnlyList<LakeObject>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        using var activity = LakeTelemetry.Start("list", Backend, prefix);
        try
        {
            var objects = List(prefix);
            activity?.SetTag("lake.objects", objects.Count);
            return Task.FromResult(objects);
        }
        catch (Exception ex) when (LakeTelemetry.Fail(activity, ex))
        {
            throw;
        }
    }

    private IReadOnlyList<LakeObject> List(string prefix)
    {
        // Start from the deepest folder the prefix names, then filter by the full prefix.
        var slash = prefix.LastIndexOf('/');
        var folder = slash < 0 ? _root : PathOf(prefix[..slash]);
        if (!Directory.Exists(folder)) return [];
        var result = new List<LakeObject>();
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            if (name.StartsWith('.') && name.EndsWith(TempSuffix, StringComparison.Ordinal)) continue;
            var key = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!key.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var info = new FileInfo(file);
            try
            {
                result.Add(new LakeObject(key, info.Length, info.LastWriteTimeUtc));
            }
            catch (FileNotFoundException)
            {
                // Deleted between the folder listing and the stat (compaction clean-up, a replaced
                // partition): it is simply not there any more, as S3's listing would say.
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return result;
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        using var activity = LakeTelemetry.Start("delete", Backend, key);
        try
        {
            File.Delete(PathOf(key));
            return Task.CompletedTask;
        }
        catch (Exception ex) when (LakeTelemetry.Fail(activity, ex))
        {
            throw;
        }
    }

    private string PathOf(string key)
    {
        if (key.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(key))
        {
            throw new ArgumentException($"Lake key '{key}' must be relative and must not climb out of the lake root.", nameof(key));
        }
        return Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));
    }
}
