using CustomerData.Lake;
using CustomerData.TestServers;

[assembly: AssemblyFixture(typeof(CustomerData.TestServers.Fixtures.KafkaFixture))]
[assembly: AssemblyFixture(typeof(CustomerData.TestServers.Fixtures.S3rverFixture))]

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>A lake folder of one test, deleted afterwards.</summary>
public sealed class TempLake : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"cdp-events-{Guid.NewGuid():N}");

    public TempLake() => Directory.CreateDirectory(Root);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A fresh lake of one test: a temp folder ("local") or a fresh prefix in the s3rver bucket ("s3").</summary>
public sealed class TestLake : IDisposable
{
    private readonly TempLake? _folder;

    public TestLake(string kind, S3rverFixture s3)
    {
        if (kind == "local")
        {
            _folder = new TempLake();
            Options = new LakeOptions { Root = _folder.Root };
        }
        else
        {
            Options = new LakeOptions
            {
                Root = $"s3://{s3.Server.Bucket}/events-test-{Guid.NewGuid():N}",
                ServiceUrl = s3.Server.ServiceUrl,
                AccessKey = S3rverServer.AccessKey,
                SecretKey = S3rverServer.SecretKey,
            };
        }
        Storage = LakeStorage.Create(Options);
    }

    public LakeOptions Options { get; }
    public ILakeStorage Storage { get; }

    /// <summary>The pipeline's configuration for this lake.</summary>
    public Dictionary<string, string?> Settings(IDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Lake:Root"] = Options.Root,
            ["Lake:ServiceUrl"] = Options.ServiceUrl,
            ["Lake:AccessKey"] = Options.AccessKey,
            ["Lake:SecretKey"] = Options.SecretKey,
        };
        foreach (var (k, v) in more ?? new Dictionary<string, string?>()) settings[k] = v;
        return settings;
    }

    public void Dispose()
    {
        (Storage as IDisposable)?.Dispose();
        _folder?.Dispose();
    }
}
