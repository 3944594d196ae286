using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MySqlConnector;

namespace CustomerData.Pipelines.Common;

/// <summary>
/// One writer per pipeline and source across processes: a MySQL user lock (<c>GET_LOCK</c>) held on a connection of
/// its own for as long as a cycle runs. The server frees it when that connection ends, so a crashed holder never
/// blocks the others for longer than its session lives. The name includes the database, because one server may hold
/// several (the tests') databases.
/// </summary>
public sealed class SourceLock : IAsyncDisposable
{
    private readonly MySqlConnection _connection;

    private SourceLock(MySqlConnection connection, string name)
    {
        _connection = connection;
        Name = name;
    }

    public string Name { get; }

    /// <summary>The lock, or null when another session still held it after <paramref name="wait"/>.</summary>
    public static async Task<SourceLock?> TryAcquireAsync(MySqlDataSource dataSource, string pipeline, string source, TimeSpan wait, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var name = LockName(pipeline, connection.Database, source);
            await using var command = new MySqlCommand("SELECT GET_LOCK(@name, @timeout)", connection) { CommandTimeout = (int)Math.Ceiling(wait.TotalSeconds) + 30 };
            command.Parameters.AddWithValue("@name", name);
            command.Parameters.AddWithValue("@timeout", (int)Math.Ceiling(Math.Max(0, wait.TotalSeconds)));
            var got = await command.ExecuteScalarAsync(cancellationToken);
            if (got is null or DBNull || Convert.ToInt64(got, CultureInfo.InvariantCulture) != 1)
            {
                await connection.DisposeAsync();
                return null;
            }
            return new SourceLock(connection, name);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary><c>pipeline:database:source</c>, hashed when longer than the 64 characters MySQL allows.</summary>
    public static string LockName(string pipeline, string database, string source)
    {
        var name = $"{pipeline}:{database}:{source}";
        if (name.Length <= 64) return name;
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..32];
        return $"{pipeline[..Math.Min(pipeline.Length, 30)]}:{hash}";
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var command = new MySqlCommand("DO RELEASE_LOCK(@name)", _connection);
            command.Parameters.AddWithValue("@name", Name);
            await command.ExecuteNonQueryAsync();
        }
        catch (MySqlException)
        {
            // The session is gone: the server released the lock with it.
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }
}
