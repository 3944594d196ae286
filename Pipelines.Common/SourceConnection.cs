using MySqlConnector;

namespace CustomerData.Pipelines.Common;

/// <summary>The MySQL session both pipelines read through.</summary>
public static class SourceConnection
{
    /// <summary>
    /// An open connection whose session runs in UTC, so <c>DATE(txn_timestamp)</c> is the UTC day and TIMESTAMP values
    /// read as UTC whatever the server's zone; <paramref name="sessionSettings"/> adds more <c>SET</c> assignments.
    /// </summary>
    public static async Task<MySqlConnection> OpenUtcAsync(MySqlDataSource dataSource, CancellationToken cancellationToken, string? sessionSettings = null)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new MySqlCommand("SET time_zone = '+00:00'" + (sessionSettings is null ? "" : ", " + sessionSettings), connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
