using System.Reflection;
using MySqlConnector;

namespace CustomerData.Contracts;

/// <summary>The MySQL schema of SPEC section 2 as one idempotent step.</summary>
public static class SourceSchema
{
    public static string Ddl { get; } = ReadResource("customer_db.sql");

    /// <summary>
    /// Creates the database named in <paramref name="connectionString"/> when missing, then every table.
    /// Safe to run any number of times and from several processes at once.
    /// </summary>
    public static async Task ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString);
        var database = string.IsNullOrEmpty(builder.Database) ? PlatformNames.Database : builder.Database;
        builder.Database = "";
        await using (var server = new MySqlConnection(builder.ConnectionString))
        {
            await server.OpenAsync(cancellationToken);
            await using var create = new MySqlCommand(
                $"CREATE DATABASE IF NOT EXISTS `{database.Replace("`", "``")}` CHARACTER SET utf8mb4", server);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        builder.Database = database;
        await using var connection = new MySqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var statement in Statements())
        {
            await using var command = new MySqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    internal static IEnumerable<string> Statements() =>
        string.Join('\n', Ddl.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)))
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(s => s.Length > 0);

    internal static string ReadResource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded resource {name} is missing from the Contracts assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
