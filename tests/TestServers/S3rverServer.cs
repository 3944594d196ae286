using Amazon.Runtime;
using Amazon.S3;

namespace CustomerData.TestServers;

/// <summary>s3rver (npm) on a free loopback port with a data folder of its own and the lake bucket created.</summary>
public sealed class S3rverServer : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    private const string InstallHint = "Install s3rver: `npm install -g s3rver@3.7.1`";

    private readonly RunningProcess _process;
    private readonly string _folder;

    private S3rverServer(RunningProcess process, string folder, int port, string bucket)
    {
        _process = process;
        _folder = folder;
        Port = port;
        Bucket = bucket;
    }

    public int Port { get; }
    public string Bucket { get; }
    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    public static async Task<S3rverServer> StartAsync(string bucket = "lake")
    {
        var s3rver = ServerProcess.FindTool(InstallHint, "s3rver");
        var folder = Path.Combine(Path.GetTempPath(), $"cdp-s3rver-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var port = ServerProcess.FreeTcpPort();
        var process = await StartProcessAsync(s3rver, folder, port, bucket);
        var server = new S3rverServer(process, folder, port, bucket);
        // The bucket is configured at start; wait until it answers so tests never race it.
        using var client = server.CreateClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket, MaxKeys = 1 });
                break;
            }
            catch (AmazonS3Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
        return server;
    }

    private static async Task<RunningProcess> StartProcessAsync(string s3rver, string folder, int port, string bucket)
    {
        var process = ServerProcess.Start(s3rver,
            ["--directory", folder, "--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--configure-bucket", bucket, "--silent"],
            // s3rver 3.7's continuation tokens (listings of more than 1,000 keys) use a cipher OpenSSL 3 (Node 17+) only
            // offers from its legacy provider: without it every truncated listing answers 500 InternalError.
            new Dictionary<string, string> { ["NODE_OPTIONS"] = "--openssl-legacy-provider" });
        await ServerProcess.WaitForTcpAsync(port, process, TimeSpan.FromSeconds(30));
        return process;
    }

    public AmazonS3Client CreateClient() => new(
        new BasicAWSCredentials(AccessKey, SecretKey),
        new AmazonS3Config { ServiceURL = ServiceUrl, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });

    public async ValueTask DisposeAsync()
    {
        await _process.StopAsync(TimeSpan.FromSeconds(10));
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
