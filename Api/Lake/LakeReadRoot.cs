using CustomerData.Lake;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;

namespace CustomerData.Api.Lake;

/// <summary>How DuckDB reaches the lake, decided once at start.</summary>
public enum LakeReadMode
{
    /// <summary>A local-folder lake, read in place.</summary>
    Folder,
    /// <summary>An S3 lake read by DuckDB's httpfs (loaded from the configured extension directory).</summary>
    HttpFs,
    /// <summary>An S3 lake copied into a local mirror in the background (httpfs could not load).</summary>
    Mirror,
}

/// <summary>
/// Where the API's DuckDB reads the lake from: the folder itself, S3 through httpfs, or a local mirror of the S3
/// objects kept fresh by <see cref="LakeSnapshotSource"/> (never synced on a request's path).
/// </summary>
public sealed class LakeReadRoot
{
    public LakeReadRoot(ILakeStorage lake, IOptions<LakeOptions> lakeOptions, IOptions<ApiOptions> apiOptions, ILogger<LakeReadRoot> logger)
    {
        Lake = lake;
        if (!lakeOptions.Value.IsS3)
        {
            Mode = LakeReadMode.Folder;
            Root = lake.RootUri.TrimEnd('/');
            DuckDbStatements = [];
        }
        else if (TryHttpFs(lakeOptions.Value, apiOptions.Value.DuckDb, out var statements, out var failure))
        {
            Mode = LakeReadMode.HttpFs;
            Root = lake.RootUri.TrimEnd('/');
            DuckDbStatements = statements;
        }
        else
        {
            Mode = LakeReadMode.Mirror;
            var folder = string.IsNullOrWhiteSpace(apiOptions.Value.MirrorFolder)
                ? Path.Combine(Path.GetTempPath(), "customer-data-api-mirror", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
                : apiOptions.Value.MirrorFolder;
            Root = Path.GetFullPath(folder).TrimEnd('/');
            Directory.CreateDirectory(Root);
            Mirror = new LakeMirror(lake, Root);
            MirrorLake = new LocalFolderLakeStorage(Root);
            DuckDbStatements = [];
            logger.LogWarning("DuckDB cannot load httpfs ({Reason}): the S3 lake is read from a local mirror in {MirrorFolder}, refreshed in the background", failure, Root);
        }
    }

    public LakeReadMode Mode { get; }

    /// <summary>The lake as the pipelines write it.</summary>
    public ILakeStorage Lake { get; }

    /// <summary>The root DuckDB reads (<c>s3://bucket/prefix</c> or a folder), without a trailing '/'.</summary>
    public string Root { get; }

    /// <summary>The one directory DuckDB may read (<c>allowed_directories</c>).</summary>
    public string AllowedDirectory => Root + "/";

    /// <summary>httpfs statements for the database (empty unless <see cref="LakeReadMode.HttpFs"/>).</summary>
    public IReadOnlyList<string> DuckDbStatements { get; }

    /// <summary>The mirror (only in <see cref="LakeReadMode.Mirror"/>).</summary>
    public LakeMirror? Mirror { get; }

    /// <summary>The mirror as a folder lake, listed after each sync (only in <see cref="LakeReadMode.Mirror"/>).</summary>
    public ILakeStorage? MirrorLake { get; }

    /// <summary>The lake whose listing says what DuckDB can read: the mirror when there is one.</summary>
    public ILakeStorage Readable => MirrorLake ?? Lake;

    /// <summary>The path or URI DuckDB opens for a key of <see cref="Readable"/>.</summary>
    public string UriOf(string key) => Root + "/" + key;

    private static bool TryHttpFs(LakeOptions lake, DuckDbSettings settings, out IReadOnlyList<string> statements, out string failure)
    {
        statements = LakeDuckDb.HttpFsStatements(lake);
        try
        {
            using var probe = new DuckDBConnection("DataSource=:memory:");
            probe.Open();
            using var command = probe.CreateCommand();
            // The same extension settings the pool's database gets, so the probe loads httpfs exactly as it will.
            foreach (var statement in DuckDbPool.ExtensionSettings(settings).Concat(statements))
            {
                command.CommandText = statement;
                command.ExecuteNonQuery();
            }
            failure = "";
            return true;
        }
        catch (DuckDBException ex)
        {
            failure = ex.Message.Split('\n')[0];
            return false;
        }
    }
}
