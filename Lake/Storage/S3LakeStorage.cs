using System.Net;
using System.Runtime.InteropServices;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace CustomerData.Lake;

/// <summary>
/// A lake in an S3 bucket (AWS, MinIO or s3rver), rooted at <c>s3://bucket[/prefix]</c>.
/// Publishing is one PUT of the final key: S3 makes a PUT visible whole or not at all,
/// so readers see the old object or the new one, never a partial one.
/// </summary>
public sealed class S3LakeStorage : ILakeStorage, IDisposable
{
    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;

    public S3LakeStorage(LakeOptions options)
        : this(CreateClient(options), options.Root, ownsClient: true)
    {
    }

    public S3LakeStorage(IAmazonS3 client, string root, bool ownsClient = false)
    {
        (Bucket, Prefix) = ParseRoot(root);
        _client = client;
        _ownsClient = ownsClient;
    }

    public string Bucket { get; }

    /// <summary>The key prefix under the bucket, empty or ending in '/'.</summary>
    public string Prefix { get; }

    public string RootUri => Prefix.Length == 0 ? $"s3://{Bucket}" : $"s3://{Bucket}/{Prefix.TrimEnd('/')}";

    public static (string Bucket, string Prefix) ParseRoot(string root)
    {
        if (!root.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"Lake root '{root}' is not an s3://bucket[/prefix] URI.", nameof(root));
        }
        var rest = root[5..].Trim('/');
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/') + "/";
        if (bucket.Length == 0) throw new ArgumentException($"Lake root '{root}' names no bucket.", nameof(root));
        return (bucket, prefix);
    }

    /// <summary>An S3 client for <paramref name="options"/>: custom endpoint and path style for MinIO/s3rver, region and default credentials for AWS.</summary>
    public static AmazonS3Client CreateClient(LakeOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // MinIO and s3rver do not all understand the SDK's default trailing checksums.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        return string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config) // the default chain: environment, profile, instance role
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey ?? ""), config);
    }

    private const string Backend = "s3";

    public async Task PublishAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        using var activity = LakeTelemetry.Start("publish", Backend, key, content.Length);
        try
        {
            using var stream = ReadOnlyStream(content);
            await _client.PutObjectAsync(PutRequest(key, stream), cancellationToken);
        }
        catch (Exception ex) when (LakeTelemetry.Fail(activity, ex))
        {
            throw;
        }
    }

    /// <summary>The content as a stream over its own array when it has one (no copy of the object).</summary>
    private static MemoryStream ReadOnlyStream(ReadOnlyMemory<byte> content) =>
        MemoryMarshal.TryGetArray(content, out var array)
            ? new MemoryStream(array.Array!, array.Offset, array.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

    /// <summary>One PUT of the whole object at its final key, without chunked encoding (MinIO, s3rver).</summary>
    private PutObjectRequest PutRequest(string key, MemoryStream content) => new()
    {
        BucketName = Bucket,
        Key = FullKey(key),
        InputStream = content,
        AutoCloseStream = false,
        UseChunkEncoding = false,
    };

    /// <summary>PUTs sent at once by <see cref="PublishAllAsync"/>.</summary>
    public const int PublishParallelism = 8;

    public async Task PublishAllAsync(IReadOnlyList<LakeWrite> writes, CancellationToken cancellationToken = default)
    {
        LakeWrites.EnsureDistinctKeys(writes);
        if (writes.Count == 0) return;
        // The call's span holds one "lake publish" span per PUT.
        using var activity = LakeTelemetry.Start("publish_all", Backend, writes[0].Key, writes.Sum(w => (long)w.Content.Length));
        activity?.SetTag("lake.objects", writes.Count);
        // Each PUT is atomic and durable once acknowledged: the batch only needs them all acknowledged.
        await Parallel.ForEachAsync(writes, new ParallelOptions { MaxDegreeOfParallelism = PublishParallelism, CancellationToken = cancellationToken },
            async (write, ct) => await PublishAsync(write.Key, write.Content, ct));
    }

    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        using var activity = LakeTelemetry.Start("create", Backend, key, content.Length);
        try
        {
            var created = await CreateIfAbsentAsync(key, content, cancellationToken);
            activity?.SetTag("lake.created", created);
            return created;
        }
        catch (Exception ex) when (LakeTelemetry.Fail(activity, ex))
        {
            throw;
        }
    }

    private async Task<bool> CreateIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        // Servers that ignore If-None-Match on PUT (s3rver) still refuse a key that already exists when
        // asked first; the conditional PUT is what makes it atomic on AWS S3 and MinIO.
        try
        {
            await _client.GetObjectMetadataAsync(Bucket, FullKey(key), cancellationToken);
            return false;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
        }
        using var stream = ReadOnlyStream(content);
        try
        {
            var request = PutRequest(key, stream);
            request.IfNoneMatch = "*";
            await _client.PutObjectAsync(request, cancellationToken);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
        {
            // 412: the key exists; 409: a concurrent conditional PUT of the same key is in progress (the other wins).
            return false;
        }
    }

    public async Task<byte[]?> ReadAsync(string key, CancellationToken cancellationToken = default)
    {
        using var activity = LakeTelemetry.Start("read", Backend, key);
        try
        {
            using var response = await _client.GetObjectAsync(Bucket, FullKey(key), cancellationToken);
            using var buffer = new MemoryStream(response.ContentLength > 0 ? (int)response.ContentLength : 0);
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
            activity?.SetTag("lake.bytes", buffer.Length);
            return buffer.ToArray();
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            activity?.SetTag("lake.found", false);
            return null;
        }
        catch (Exception ex) when (LakeTelemetry.Fail(activity, ex))
        {
            throw;
        }
    }

    public async Task<IReadOnlyList<LakeObject>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        using var activity = LakeTelemetry.Start("list", Backend, prefix);
        try
        {
            var objects = await ListAllPagesAsync(prefix, cancellationToken);
            activity?.SetTag("lake.objects", objects.Count);
            return objects;
        }
        catch (Exception ex) when (LakeTelemetry.Fail(activity, ex))
        {
            throw;
        }
    }

    private async Task<IReadOnlyList<LakeObject>> ListAllPagesAsync(string prefix, CancellationToken cancellationToken)
    {
        var result = new List<LakeObject>();
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = FullKey(prefix) };
        while (true)
        {
            var response = await _client.ListObjectsV2Async(request, cancellationToken);
            foreach (var o in response.S3Objects ?? [])
            {
                result.Add(new LakeObject(o.Key[Prefix.Length..], o.Size ?? 0, o.LastModified is { } t ? new DateTimeOffset(t.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MinValue, o.ETag));
            }
            if (response.IsTruncated != true) break;
            request.ContinuationToken = response.NextContinuationToken;
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return result;
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        using var activity = LakeTelemetry.Start("delete", Backend, key);
        try
        {
            await _client.DeleteObjectAsync(Bucket, FullKey(key), cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone.
        }
        catch (Exception ex) when (LakeTelemetry.Fail(activity, ex))
        {
            throw;
        }
    }

    private string FullKey(string key)
    {
        if (key.Contains("..", StringComparison.Ordinal) || key.StartsWith('/'))
        {
            throw new ArgumentException($"Lake key '{key}' must be relative and must not climb out of the lake root.", nameof(key));
        }
        return Prefix + key;
    }

    public void Dispose()
    {
        if (_ownsClient) _client.Dispose();
    }
}
