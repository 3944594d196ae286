using System.Globalization;

namespace CustomerData.Lake;

/// <summary>
/// How DuckDB readers (Api, tests) reach the lake. For S3 DuckDB needs its <c>httpfs</c> extension,
/// which DuckDB.NET.Data.Full 1.5.6.1 does not bundle (only parquet, icu, json... are built in) and
/// which DuckDB downloads on first use: without internet that fails. So a reader first tries
/// <see cref="HttpFsStatements"/>; when <c>LOAD httpfs</c> fails it reads from a local mirror of the
/// objects (<see cref="LakeMirror"/>). A local-folder lake is read in place.
/// </summary>
public static class LakeDuckDb
{
    /// <summary>
    /// Statements that load httpfs and point DuckDB's S3 settings at the lake (endpoint, path style,
    /// SSL, region, credentials). Empty for a local lake. Run them in order on each connection.
    /// </summary>
    public static IReadOnlyList<string> HttpFsStatements(LakeOptions options)
    {
        if (!options.IsS3) return [];
        var statements = new List<string> { "LOAD httpfs", $"SET s3_region = {Quote(options.Region)}" };
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            var endpoint = new Uri(options.ServiceUrl);
            statements.Add($"SET s3_endpoint = {Quote(endpoint.Authority)}");
            statements.Add($"SET s3_use_ssl = {(endpoint.Scheme == Uri.UriSchemeHttps ? "true" : "false")}");
        }
        statements.Add($"SET s3_url_style = {Quote(options.ForcePathStyle ? "path" : "vhost")}");
        if (!string.IsNullOrEmpty(options.AccessKey))
        {
            statements.Add($"SET s3_access_key_id = {Quote(options.AccessKey)}");
            statements.Add($"SET s3_secret_access_key = {Quote(options.SecretKey ?? "")}");
        }
        return statements;
    }

    /// <summary>A SQL string literal.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary><c>read_parquet('&lt;root&gt;/&lt;table&gt;/*/*.parquet', hive_partitioning = true)</c> for a root from <see cref="LakeMirror.SyncAsync"/> or the S3 root.</summary>
    public static string ReadParquet(string root, string table) =>
        string.Create(CultureInfo.InvariantCulture, $"read_parquet({Quote(LakeLayout.Glob(root, table))}, hive_partitioning = true, hive_types_autocast = false)");
}

/// <summary>
/// A local copy of part of the lake, for readers that cannot reach S3 directly (DuckDB without httpfs).
/// Each sync downloads new or changed objects (by size and last-modified time), each through a temp file
/// and a rename, and removes local files whose objects are gone. For a local-folder lake it does nothing
/// and returns the lake's own root.
/// </summary>
public sealed class LakeMirror(ILakeStorage lake, string folder)
{
    private readonly Dictionary<string, LakeObject> _copied = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Brings the objects under <paramref name="prefix"/> up to date locally; returns the root to read from.</summary>
    public async Task<string> SyncAsync(string prefix, CancellationToken cancellationToken = default)
    {
        if (lake is LocalFolderLakeStorage) return lake.RootUri;
        var root = Path.GetFullPath(folder);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var objects = await lake.ListAsync(prefix, cancellationToken);
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var o in objects)
            {
                present.Add(o.Key);
                if (_copied.TryGetValue(o.Key, out var known) && known == o) continue;
                var bytes = await lake.ReadAsync(o.Key, cancellationToken);
                if (bytes is null) continue; // deleted between list and read
                var target = Path.Combine(root, o.Key.Replace('/', Path.DirectorySeparatorChar));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                var temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
                await File.WriteAllBytesAsync(temp, bytes, cancellationToken);
                File.Move(temp, target, overwrite: true);
                _copied[o.Key] = o;
            }
            var local = Path.Combine(root, prefix.Replace('/', Path.DirectorySeparatorChar));
            var localFolder = prefix.EndsWith('/') ? local : Path.GetDirectoryName(local)!;
            if (Directory.Exists(localFolder))
            {
                foreach (var file in Directory.EnumerateFiles(localFolder, "*", SearchOption.AllDirectories))
                {
                    var key = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
                    if (key.StartsWith(prefix, StringComparison.Ordinal) && !present.Contains(key))
                    {
                        File.Delete(file);
                        _copied.Remove(key);
                    }
                }
            }
            return root;
        }
        finally
        {
            _gate.Release();
        }
    }
}
