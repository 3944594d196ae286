namespace CustomerData.Api.Lake;

/// <summary>A backing service is down or the API is saturated: the answer is 503 <c>unavailable</c>.</summary>
public sealed class ServiceUnavailableException(string what, Exception? inner = null) : Exception(what, inner);

/// <summary>A lake file could not be read (corrupt, not Parquet): 500 <c>internal_error</c> for the requests that need it.</summary>
public sealed class LakeFileException(string file, Exception inner) : Exception($"The lake file {file} could not be read: {inner.Message}", inner)
{
    public string File { get; } = file;
}

/// <summary>A file of the snapshot vanished (a compaction's clean-up, a republished day): list the lake again and retry.</summary>
public sealed class LakeFileVanishedException(string file, Exception? inner = null) : Exception($"The lake file {file} is gone.", inner);
