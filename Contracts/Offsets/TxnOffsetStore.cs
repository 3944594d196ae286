using MySqlConnector;

namespace CustomerData.Contracts.Offsets;

/// <summary>An offsets table of SPEC section 2: one row per source, the last processed txn_id.</summary>
public sealed record OffsetTable(string Table, string OffsetColumn)
{
    /// <summary>Pipeline A: <c>profile_offsets.last_txn_id</c>.</summary>
    public static readonly OffsetTable Profile = new("profile_offsets", "last_txn_id");

    /// <summary>Pipeline B: <c>txn_summary_offsets.last_txnid</c> (sic).</summary>
    public static readonly OffsetTable Summary = new("txn_summary_offsets", "last_txnid");
}

/// <summary>
/// Reads and advances a pipeline's stored offset. The offset only ever moves forward
/// (monotonic): writing a lower value than the stored one leaves the stored one.
/// </summary>
public sealed class TxnOffsetStore(OffsetTable table, string source = "transactions")
{
    public string Source => source;

    /// <summary>The stored offset, or 0 when the source has none yet.</summary>
    public async Task<long> ReadAsync(MySqlConnection connection, MySqlTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        await using var command = new MySqlCommand($"SELECT {table.OffsetColumn} FROM {table.Table} WHERE source = @source", connection, transaction);
        command.Parameters.AddWithValue("@source", source);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Stores <paramref name="offset"/> unless the stored one is already higher; returns the offset now stored.</summary>
    public async Task<long> AdvanceAsync(MySqlConnection connection, long offset, MySqlTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        await using (var command = new MySqlCommand(
            $"INSERT INTO {table.Table} (source, {table.OffsetColumn}) VALUES (@source, @offset) " +
            $"ON DUPLICATE KEY UPDATE {table.OffsetColumn} = GREATEST({table.OffsetColumn}, VALUES({table.OffsetColumn}))",
            connection, transaction))
        {
            command.Parameters.AddWithValue("@source", source);
            command.Parameters.AddWithValue("@offset", offset);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        return await ReadAsync(connection, transaction, cancellationToken);
    }

    /// <summary>Sets the offset to exactly <paramref name="offset"/>, also backwards (for a rebuild).</summary>
    public async Task ResetAsync(MySqlConnection connection, long offset, CancellationToken cancellationToken = default)
    {
        await using var command = new MySqlCommand(
            $"REPLACE INTO {table.Table} (source, {table.OffsetColumn}) VALUES (@source, @offset)", connection);
        command.Parameters.AddWithValue("@source", source);
        command.Parameters.AddWithValue("@offset", offset);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
