using CustomerData.Lake;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerData.Contracts.Tests;

/// <summary>The same cases on both backends: a local folder and S3 (s3rver), with and without a key prefix.</summary>
public sealed class LakeStorageTests(S3rverFixture s3) : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lake-test-" + Guid.NewGuid().ToString("N"));
    private readonly List<IDisposable> _owned = [];

    public static TheoryData<string> Backends => ["local", "s3", "s3-prefixed"];

    private ILakeStorage Create(string backend)
    {
        var options = backend switch
        {
            "local" => new LakeOptions { Root = _folder },
            "s3" => S3Options($"s3://{s3.Server.Bucket}"),
            _ => S3Options($"s3://{s3.Server.Bucket}/{Guid.NewGuid():N}/nested"),
        };
        var lake = LakeStorage.Create(options);
        if (lake is IDisposable d) _owned.Add(d);
        return lake;
    }

    private LakeOptions S3Options(string root) => new()
    {
        Root = root,
        ServiceUrl = s3.Server.ServiceUrl,
        AccessKey = CustomerData.TestServers.S3rverServer.AccessKey,
        SecretKey = CustomerData.TestServers.S3rverServer.SecretKey,
    };

    // Keys unique per test so the shared bucket never mixes cases.
    private static string UniqueTable() => "t" + Guid.NewGuid().ToString("N")[..12];

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Publish_replaces_the_object_and_read_returns_the_latest(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = Create(backend);
        var key = $"{UniqueTable()}/date=2025-12-10/part-0.parquet";

        await lake.PublishAsync(key, "old"u8.ToArray(), ct);
        await lake.PublishAsync(key, "new"u8.ToArray(), ct);

        Assert.Equal("new"u8.ToArray(), await lake.ReadAsync(key, ct));
        Assert.Null(await lake.ReadAsync(key + ".missing", ct));
        Assert.Equal([key], (await lake.ListAsync(key[..key.IndexOf('/')], ct)).Select(o => o.Key));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task PublishAll_publishes_every_object_replacing_old_ones_and_refuses_a_key_twice(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = Create(backend);
        var table = UniqueTable();
        var keys = Enumerable.Range(1, 40).Select(d => $"{table}/date=2025-12-{d % 28 + 1:D2}/part-{d:D2}.parquet").ToList();
        await lake.PublishAsync(keys[0], "old"u8.ToArray(), ct);

        await lake.PublishAllAsync([.. keys.Select(k => new LakeWrite(k, System.Text.Encoding.UTF8.GetBytes("content of " + k)))], ct);

        Assert.Equal(keys.Order(StringComparer.Ordinal), (await lake.ListAsync(table + "/", ct)).Select(o => o.Key));
        foreach (var key in keys) Assert.Equal("content of " + key, System.Text.Encoding.UTF8.GetString((await lake.ReadAsync(key, ct))!));
        await Assert.ThrowsAsync<ArgumentException>(() => lake.PublishAllAsync([new LakeWrite(keys[1], "a"u8.ToArray()), new LakeWrite(keys[1], "b"u8.ToArray())], ct));
        Assert.Equal("content of " + keys[1], System.Text.Encoding.UTF8.GetString((await lake.ReadAsync(keys[1], ct))!));
        await lake.PublishAllAsync([], ct);
    }

    [Fact]
    public async Task Local_PublishAll_leaves_no_temp_file_and_a_failed_batch_removes_its_temp_files()
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = Create("local");
        await lake.PublishAllAsync([new LakeWrite("t/date=2025-12-01/part-0.parquet", "a"u8.ToArray()), new LakeWrite("t/date=2025-12-02/part-0.parquet", "b"u8.ToArray())], ct);
        Assert.Equal(["part-0.parquet", "part-0.parquet"], Directory.EnumerateFiles(Path.Combine(_folder, "t"), "*", SearchOption.AllDirectories).Select(Path.GetFileName));

        // The second key climbs out of the root: the batch fails after staging the first, which must not stay behind.
        await Assert.ThrowsAsync<ArgumentException>(() => lake.PublishAllAsync([new LakeWrite("u/date=2025-12-03/part-0.parquet", "c"u8.ToArray()), new LakeWrite("../escape", "d"u8.ToArray())], ct));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_folder, "u"), "*", SearchOption.AllDirectories));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task List_returns_only_keys_under_the_prefix_in_key_order_with_sizes(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = Create(backend);
        var table = UniqueTable();
        string[] keys = [$"{table}/date=2025-12-11/b.parquet", $"{table}/date=2025-12-10/a.parquet", $"{table}/date=2025-12-10/c.parquet", $"{table}x/date=2025-12-10/a.parquet"];
        foreach (var (key, i) in keys.Select((k, i) => (k, i))) await lake.PublishAsync(key, new byte[i + 1], ct);

        var all = await lake.ListAsync($"{table}/", ct);
        var day = await lake.ListAsync($"{table}/date=2025-12-10/", ct);

        Assert.Equal([keys[1], keys[2], keys[0]], all.Select(o => o.Key));
        Assert.Equal([2L, 3L, 1L], all.Select(o => o.Size));
        Assert.Equal([keys[1], keys[2]], day.Select(o => o.Key));
        Assert.Empty(await lake.ListAsync($"{table}/date=2030-01-01/", ct));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Delete_removes_the_object_and_tolerates_a_missing_one(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = Create(backend);
        var key = $"{UniqueTable()}/date=2025-12-10/part-0.parquet";
        await lake.PublishAsync(key, new byte[] { 1 }, ct);

        await lake.DeleteAsync(key, ct);
        await lake.DeleteAsync(key, ct);

        Assert.Null(await lake.ReadAsync(key, ct));
        Assert.Empty(await lake.ListAsync(key, ct));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task TryCreate_creates_a_new_key_once_and_never_replaces_an_existing_one(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = Create(backend);
        var key = $"{UniqueTable()}/date=2025-12-10/_manifest-g00000001.json";

        Assert.True(await lake.TryCreateAsync(key, "first"u8.ToArray(), ct));
        Assert.False(await lake.TryCreateAsync(key, "second"u8.ToArray(), ct));

        Assert.Equal("first"u8.ToArray(), await lake.ReadAsync(key, ct));
        Assert.Equal([key], (await lake.ListAsync(key[..key.IndexOf('/')], ct)).Select(o => o.Key));
    }

    // Local only: s3rver ignores If-None-Match on PUT, so on it only the HEAD pre-check guards and two
    // writers racing can both win; AWS S3 and MinIO answer the second conditional PUT with 412/409.
    [Fact]
    public async Task Local_TryCreate_lets_exactly_one_of_many_racing_writers_win()
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = Create("local");
        for (var round = 0; round < 20; round++)
        {
            var key = $"race/date=2025-12-10/_manifest-g{round:D8}.json";
            var writers = Enumerable.Range(0, 8)
                .Select(i => Task.Run(() => lake.TryCreateAsync(key, System.Text.Encoding.UTF8.GetBytes($"writer-{i}"), ct), ct))
                .ToArray();
            var won = await Task.WhenAll(writers);

            Assert.Equal(1, won.Count(w => w));
            var winner = Array.IndexOf(won, true);
            Assert.Equal($"writer-{winner}", System.Text.Encoding.UTF8.GetString((await lake.ReadAsync(key, ct))!));
        }
        Assert.Equal(20, (await lake.ListAsync("race/", ct)).Count); // no temp file left behind
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Keys_that_climb_out_of_the_root_are_refused(string backend)
    {
        var lake = Create(backend);
        await Assert.ThrowsAsync<ArgumentException>(() => lake.PublishAsync("../escape", new byte[1], TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Local_list_hides_temp_files_left_by_a_crashed_writer()
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = Create("local");
        var key = LakeLayout.SummaryPartition(new DateOnly(2025, 12, 10)) + "part-0.parquet";
        await lake.PublishAsync(key, "new"u8.ToArray(), ct);
        File.WriteAllText(Path.Combine(_folder, "txn_summary", "date=2025-12-10", ".part-1.parquet.abc.tmp"), "partial");

        var listed = await lake.ListAsync("txn_summary/", ct);

        Assert.Equal(["txn_summary/date=2025-12-10/part-0.parquet"], listed.Select(o => o.Key));
    }

    [Fact]
    public void S3_root_uri_keeps_bucket_and_prefix()
    {
        var lake = Create("s3-prefixed");
        var s3Lake = Assert.IsType<S3LakeStorage>(lake);
        Assert.StartsWith($"s3://{s3.Server.Bucket}/", lake.RootUri);
        Assert.EndsWith("/nested", lake.RootUri);
        Assert.Equal(s3.Server.Bucket, s3Lake.Bucket);
        Assert.Throws<ArgumentException>(() => S3LakeStorage.ParseRoot("s3://"));
    }

    [Fact]
    public void AddLakeStorage_binds_the_Lake_section_and_the_connection_string_wins_for_the_root()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Lake:Root"] = _folder + "-ignored",
            ["Lake:ServiceUrl"] = s3.Server.ServiceUrl,
            ["Lake:AccessKey"] = CustomerData.TestServers.S3rverServer.AccessKey,
            ["Lake:SecretKey"] = CustomerData.TestServers.S3rverServer.SecretKey,
            ["ConnectionStrings:lake"] = $"s3://{s3.Server.Bucket}/via-connection-string",
        }).Build();
        using var provider = new ServiceCollection().AddLakeStorage(configuration).BuildServiceProvider();

        var lake = provider.GetRequiredService<ILakeStorage>();

        Assert.IsType<S3LakeStorage>(lake);
        Assert.Equal($"s3://{s3.Server.Bucket}/via-connection-string", lake.RootUri);
        Assert.IsType<LocalFolderLakeStorage>(LakeStorage.Create(new LakeOptions { Root = _folder }));
    }

    [Fact]
    public async Task Mirror_copies_new_objects_and_drops_deleted_ones()
    {
        var ct = TestContext.Current.CancellationToken;
        var lake = Create("s3-prefixed");
        var mirror = new LakeMirror(lake, _folder);
        await lake.PublishAsync("tbl/date=2025-12-10/part-0.parquet", "a"u8.ToArray(), ct);
        await lake.PublishAsync("tbl/date=2025-12-11/part-0.parquet", "b"u8.ToArray(), ct);

        var root = await mirror.SyncAsync("tbl/", ct);
        await lake.DeleteAsync("tbl/date=2025-12-10/part-0.parquet", ct);
        await lake.PublishAsync("tbl/date=2025-12-11/part-0.parquet", "bb"u8.ToArray(), ct);
        await mirror.SyncAsync("tbl/", ct);

        Assert.False(File.Exists(Path.Combine(root, "tbl", "date=2025-12-10", "part-0.parquet")));
        Assert.Equal("bb", File.ReadAllText(Path.Combine(root, "tbl", "date=2025-12-11", "part-0.parquet")));
    }

    [Fact]
    public void DuckDb_statements_point_httpfs_at_the_endpoint_with_path_style()
    {
        var statements = LakeDuckDb.HttpFsStatements(S3Options("s3://lake"));

        Assert.Equal("LOAD httpfs", statements[0]);
        Assert.Contains($"SET s3_endpoint = '127.0.0.1:{s3.Server.Port}'", statements);
        Assert.Contains("SET s3_use_ssl = false", statements);
        Assert.Contains("SET s3_url_style = 'path'", statements);
        Assert.Empty(LakeDuckDb.HttpFsStatements(new LakeOptions { Root = _folder }));
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }
}
