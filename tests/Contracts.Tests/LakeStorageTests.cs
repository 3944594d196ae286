using CustomerData.Contracts.Lake;

namespace CustomerData.Contracts.Tests;

public sealed class LocalFolderLakeStorageTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "lake-test-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Publish_replaces_atomically_and_list_hides_temp_files()
    {
        var lake = new LocalFolderLakeStorage(_root);
        var key = LakeLayout.SummaryPartition(new DateOnly(2025, 12, 10)) + "part-0.parquet";

        await lake.PublishAsync(key, "old"u8.ToArray(), TestContext.Current.CancellationToken);
        await lake.PublishAsync(key, "new"u8.ToArray(), TestContext.Current.CancellationToken);
        // A temp file left by a crashed writer must not be listed.
        File.WriteAllText(Path.Combine(_root, "txn_summary", "date=2025-12-10", ".part-1.parquet.abc.tmp"), "partial");

        var listed = await lake.ListAsync("txn_summary/", TestContext.Current.CancellationToken);
        Assert.Equal(["txn_summary/date=2025-12-10/part-0.parquet"], listed.Select(o => o.Key));
        Assert.Equal("new"u8.ToArray(), await lake.ReadAsync(key, TestContext.Current.CancellationToken));
        Assert.Null(await lake.ReadAsync("txn_summary/missing.parquet", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Keys_that_climb_out_of_the_root_are_refused()
    {
        var lake = new LocalFolderLakeStorage(_root);
        await Assert.ThrowsAsync<ArgumentException>(() => lake.PublishAsync("../escape", new byte[1], TestContext.Current.CancellationToken));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
