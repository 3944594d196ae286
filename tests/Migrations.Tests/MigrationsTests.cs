using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using CustomerData.Cql;
using CustomerData.TestServers;
using MySqlConnector;

namespace CustomerData.Migrations.Tests;

/// <summary>The Migrations project run as the AppHost runs it: a real process against real servers, judged by its exit code.</summary>
public sealed class MigrationsTests(MariaDbFixture mariaDb, CqlDevServerFixture cql)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_migration_creates_every_table_exits_zero_and_a_second_run_keeps_the_data()
    {
        var mySql = await mariaDb.Server.CreateDatabaseAsync("migrate", Ct);
        var keyspace = "ks_" + Guid.NewGuid().ToString("N")[..12];
        // The keyspace in the connection string, as the AppHost gives it: it does not exist before the first run.
        var cassandra = cql.Server.ConnectionString(keyspace);

        var first = await RunMigrationsAsync(mySql, cassandra);
        Assert.True(first.ExitCode == 0, first.Output);

        Assert.Equal(["customers", "products", "transactions"], (await TablesAsync(mySql)).Where(t => t is "customers" or "products" or "transactions").Order());
        await using var session = await CqlSession.ConnectAsync(CqlSessionOptions.Parse(cassandra), cancellationToken: Ct);
        await session.ExecuteAsync("INSERT INTO customer_profile (customer_id, name) VALUES (7, 'kept')", cancellationToken: Ct);
        await session.ExecuteAsync("INSERT INTO customer_profile_reconcile (bucket, fingerprint) VALUES (-1, '42')", cancellationToken: Ct);
        await ExecuteAsync(mySql, "INSERT INTO customers (customer_id, name, email, gender, signup_date) VALUES (7, 'kept', 'k@example.com', 'F', '2025-01-01')");

        var second = await RunMigrationsAsync(mySql, cassandra);
        Assert.True(second.ExitCode == 0, second.Output);
        var row = (await session.ExecuteAsync("SELECT name FROM customer_profile WHERE customer_id = 7", cancellationToken: Ct)).Rows.Single();
        Assert.Equal("kept", row.GetString("name"));
        Assert.Equal(1L, await ScalarAsync(mySql, "SELECT COUNT(*) FROM customers WHERE customer_id = 7"));
    }

    [Fact]
    public async Task An_unreachable_cassandra_ends_the_migration_with_exit_code_one_naming_the_step()
    {
        var mySql = await mariaDb.Server.CreateDatabaseAsync("unreachable", Ct);
        var closedPort = ServerProcess.FreeTcpPort();

        var run = await RunMigrationsAsync(mySql, $"Contact Points=127.0.0.1:{closedPort};Keyspace=ks_never",
            ("Migrations__MaxAttempts", "2"), ("Migrations__RetryDelay", "00:00:00.100"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Schema step cassandra gave up after 2 attempts", run.Output, StringComparison.Ordinal);
        // The MySQL step ran before it and is done: a rerun once Cassandra is up only has Cassandra left to do.
        Assert.Contains("transactions", await TablesAsync(mySql));
    }

    [Fact]
    public void Options_defaults_are_valid_and_a_network_topology_without_data_centers_is_named()
    {
        Assert.Empty(Validate(new MigrationsOptions()));
        Assert.Equal("{'class': 'SimpleStrategy', 'replication_factor': 1}", new MigrationsOptions().ReplicationMap());

        var errors = Validate(new MigrationsOptions { ReplicationStrategy = "NetworkTopologyStrategy", Keyspace = "bad-name; DROP" });
        Assert.Contains(errors, e => e.Contains("DataCenters", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Keyspace", StringComparison.Ordinal));
        var topology = new MigrationsOptions { ReplicationStrategy = "NetworkTopologyStrategy", DataCenters = { ["dc2"] = 2, ["dc1"] = 3 } };
        Assert.Empty(Validate(topology));
        Assert.Equal("{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}", topology.ReplicationMap());
    }

    private static List<string> Validate(MigrationsOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        results.AddRange(options.Validate(new ValidationContext(options)));
        return [.. results.Select(r => r.ErrorMessage ?? "")];
    }

    private static async Task<(int ExitCode, string Output)> RunMigrationsAsync(string mySql, string cassandra, params (string Key, string Value)[] settings)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Migrations.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        psi.Environment["ConnectionStrings__customerdb"] = mySql;
        psi.Environment["ConnectionStrings__cassandra"] = cassandra;
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings) psi.Environment[key] = value;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static async Task<List<string>> TablesAsync(string connectionString)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new MySqlCommand("SHOW TABLES", connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var tables = new List<string>();
        while (await reader.ReadAsync(Ct)) tables.Add(reader.GetString(0));
        return tables;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct));
    }
}
