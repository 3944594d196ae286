using DuckDB.NET.Data;

namespace CustomerData.Api.Lake;

/// <summary>What a DuckDB error on a lake file means: the file vanished (list again), or it is unreadable (500, logged once).</summary>
public static partial class LakeErrors
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> s_logged = new(StringComparer.Ordinal);

    public static Exception Classify(LakeFile file, DuckDBException ex, ILogger logger) =>
        Classify([file], ex, logger);

    public static Exception Classify(IReadOnlyList<LakeFile> files, DuckDBException ex, ILogger logger)
    {
        var local = files.Where(f => !f.Uri.Contains("://", StringComparison.Ordinal)).ToList();
        var gone = local.FirstOrDefault(f => !File.Exists(f.Uri) || new FileInfo(f.Uri).Length != f.Size);
        if (gone is not null) return new LakeFileVanishedException(gone.Name, ex);
        var name = files.Count == 1 ? files[0].Name : NameIn(files, ex.Message) ?? $"one of {files.Count} files";
        // Logged once per file version: every request that touches it answers 500, the log says it once.
        if (s_logged.TryAdd(string.Join('|', files.Select(f => $"{f.Uri}:{f.Size}:{f.LastModified.UtcTicks}")), 0))
        {
            LogUnreadable(logger, name, ex.Message.Split('\n')[0]);
            ApiTelemetry.UnreadableFiles.Add(1);
        }
        return new LakeFileException(name, ex);
    }

    private static string? NameIn(IReadOnlyList<LakeFile> files, string message) =>
        files.FirstOrDefault(f => message.Contains(f.Name, StringComparison.Ordinal))?.Name;

    [LoggerMessage(Level = LogLevel.Error, Message = "Lake file {File} cannot be read: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string file, string reason);
}
