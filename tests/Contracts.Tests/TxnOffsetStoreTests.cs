using CustomerData.Contracts.Offsets;
using MySqlConnector;

namespace CustomerData.Contracts.Tests;

public sealed class TxnOffsetStoreTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task Offset_starts_at_zero_and_never_moves_backwards()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await mariaDb.Server.CreateDatabaseAsync("offsets", ct);
        await SourceSchema.ApplyAsync(connectionString, ct);
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(ct);
        var summary = new TxnOffsetStore(OffsetTable.Summary);
        var profile = new TxnOffsetStore(OffsetTable.Profile);

        var initial = await summary.ReadAsync(connection, cancellationToken: ct);
        await summary.AdvanceAsync(connection, 100, cancellationToken: ct);
        var afterBackwards = await summary.AdvanceAsync(connection, 50, cancellationToken: ct);

        Assert.Equal(0, initial);
        Assert.Equal(100, afterBackwards);
        Assert.Equal(0, await profile.ReadAsync(connection, cancellationToken: ct));
        await summary.ResetAsync(connection, 0, ct);
        Assert.Equal(0, await summary.ReadAsync(connection, cancellationToken: ct));
    }
}
