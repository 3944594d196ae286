using CustomerData.Contracts;
namespace CustomerData.Lake;

/// <summary>
/// The lake root and how to reach it, bound from <c>Lake</c>. <see cref="Root"/> is either
/// <c>s3://bucket[/prefix]</c> (MinIO, s3rver or AWS) or a local folder path.
/// The connection string <c>ConnectionStrings:lake</c>, when set, gives the root.
/// </summary>
public sealed class LakeOptions
{
    public const string SectionName = "Lake";

    public string Root { get; set; } = "s3://" + PlatformNames.LakeBucket;

    /// <summary>S3 endpoint for MinIO or s3rver (for example <c>http://localhost:9000</c>); empty for AWS.</summary>
    public string? ServiceUrl { get; set; }
    public string Region { get; set; } = "us-east-1";
    /// <summary>Path-style addressing (MinIO, s3rver); AWS takes virtual-hosted style.</summary>
    public bool ForcePathStyle { get; set; } = true;
    public string? AccessKey { get; set; }
    public string? SecretKey { get; set; }

    public bool IsS3 => Root.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);
}
