using System.Runtime.InteropServices;

namespace CustomerData.Lake;

/// <summary>The disk-level steps of <see cref="LocalFolderLakeStorage"/>: flushes and the create-only rename.</summary>
internal static class LocalFileDurability
{
    /// <summary>Flushes every file and folder of the file system that holds the lake (Linux <c>syncfs</c>).</summary>
    internal static void SyncFileSystem(int rootFd)
    {
        if (Posix.Syncfs(rootFd) != 0) throw new IOException($"Could not flush the lake's file system to disk (syncfs errno {Marshal.GetLastPInvokeError()}).");
    }

    private const int EINVAL = 22;
    private const int EEXIST = 17;

    /// <summary>
    /// Create-only publish of the finished temp file. rename(2) replaces an existing target and .NET's
    /// File.Move(overwrite: false) checks first and renames then (two writers can both win), so on Unix this
    /// uses link(2), which fails with EEXIST atomically, and then drops the temp name.
    /// </summary>
    internal static bool MoveIfAbsent(string temp, string target)
    {
        if (!OperatingSystem.IsWindows())
        {
            int result;
            try
            {
                result = Posix.Link(temp, target);
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                result = int.MinValue; // no POSIX libc: fall back to File.Move below
            }
            if (result == 0)
            {
                File.Delete(temp);
                return true;
            }
            if (result != int.MinValue)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EEXIST) return false;
                throw new IOException($"Could not publish {target} (link errno {errno}).");
            }
        }
        // Windows: MoveFileEx without MOVEFILE_REPLACE_EXISTING fails atomically when the target exists.
        try
        {
            File.Move(temp, target, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(target))
        {
            return false;
        }
    }

    internal static void FlushFolder(string folder)
    {
        if (OperatingSystem.IsWindows()) return; // NTFS journals the rename itself
        int fd;
        try
        {
            fd = Posix.Open(folder, 0 /* O_RDONLY */);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return; // no POSIX libc to ask: the rename is as durable as the platform makes it
        }
        if (fd < 0) throw new IOException($"Could not open lake folder {folder} to flush it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            // EINVAL: the file system cannot sync folders (some FUSE mounts); nothing more can be done there.
            if (Posix.Fsync(fd) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != EINVAL)
            {
                throw new IOException($"Could not flush lake folder {folder} to disk (errno {errno}).");
            }
        }
        finally
        {
            Posix.Close(fd);
        }
    }

    internal static class Posix
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        public static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int Fsync(int fd);

        [DllImport("libc", EntryPoint = "syncfs", SetLastError = true)]
        public static extern int Syncfs(int fd);

        [DllImport("libc", EntryPoint = "close")]
        public static extern int Close(int fd);
    }
}
