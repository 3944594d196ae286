using MySqlConnector;

namespace CustomerData.TestServers;

/// <summary>
/// A real MariaDB server (Debian's mariadb-server) in a private data folder on a free port.
/// Start once per test run; give each test class its own database with <see cref="CreateDatabaseAsync"/>.
/// </summary>
public sealed class MariaDbServer : IAsyncDisposable
{
    public const string User = "platform";
    public const string Password = "platform-test-pw";
    private const string InstallHint = "Install MariaDB: `apt-get install -y mariadb-server`";

    private readonly string _folder;
    private readonly string _mariadbd;
    private RunningProcess? _process;

    private MariaDbServer(string folder, string mariadbd, int port)
    {
        _folder = folder;
        _mariadbd = mariadbd;
        Port = port;
    }

    public int Port { get; }
    public string SocketPath => Path.Combine(_folder, "mysqld.sock");

    /// <summary>TCP connection string of the platform user, without a database.</summary>
    public string ServerConnectionString => new MySqlConnectionStringBuilder
    {
        Server = "127.0.0.1",
        Port = (uint)Port,
        UserID = User,
        Password = Password,
        AllowLoadLocalInfile = true,
        AllowUserVariables = true,
    }.ConnectionString;

    public string ConnectionStringFor(string database) =>
        new MySqlConnectionStringBuilder(ServerConnectionString) { Database = database }.ConnectionString;

    public static async Task<MariaDbServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var mariadbd = ServerProcess.FindTool(InstallHint, "mariadbd", "mysqld");
        var installDb = ServerProcess.FindTool(InstallHint, "mariadb-install-db", "mysql_install_db");
        var folder = Path.Combine(Path.GetTempPath(), $"cdp-mariadb-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        Directory.CreateDirectory(Path.Combine(folder, "tmp"));
        var args = new List<string>
        {
            "--no-defaults", $"--datadir={Path.Combine(folder, "data")}",
            "--auth-root-authentication-method=normal", "--skip-test-db",
        };
        if (Environment.UserName == "root") args.Add("--user=root");
        await ServerProcess.RunToEndAsync(installDb, args, TimeSpan.FromMinutes(2));

        var server = new MariaDbServer(folder, mariadbd, ServerProcess.FreeTcpPort());
        await server.StartProcessAsync(cancellationToken);
        await using (var root = new MySqlConnection($"Server={server.SocketPath};Protocol=Unix;User ID=root;Password="))
        {
            await root.OpenAsync(cancellationToken);
            await using var grant = new MySqlCommand(
                $"CREATE USER IF NOT EXISTS '{User}'@'%' IDENTIFIED BY '{Password}'; " +
                $"GRANT ALL PRIVILEGES ON *.* TO '{User}'@'%' WITH GRANT OPTION; FLUSH PRIVILEGES;", root);
            await grant.ExecuteNonQueryAsync(cancellationToken);
        }
        return server;
    }

    /// <summary>A new, empty database with a unique name; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test", CancellationToken cancellationToken = default)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(60, prefix.Length + 33)];
        await using var connection = new MySqlConnection(ServerConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return ConnectionStringFor(name);
    }

    /// <summary>Kills the server (as a crash would) and starts it again on the same data and port.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync();
        await StartProcessAsync(cancellationToken);
    }

    /// <summary>Kills the server, keeps it down for <paramref name="downtime"/>, then starts it on the same data and port.</summary>
    public async Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken = default)
    {
        await StopAsync();
        await Task.Delay(downtime, cancellationToken);
        await StartProcessAsync(cancellationToken);
    }

    public async Task StopAsync()
    {
        if (_process is not null) await _process.StopAsync(TimeSpan.FromSeconds(30));
        _process = null;
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        var args = new List<string>
        {
            "--no-defaults",
            $"--datadir={Path.Combine(_folder, "data")}",
            $"--tmpdir={Path.Combine(_folder, "tmp")}",
            $"--socket={SocketPath}",
            $"--pid-file={Path.Combine(_folder, "mysqld.pid")}",
            $"--port={Port}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--local-infile=1",
            "--max-connections=500",
            "--innodb-buffer-pool-size=512M",
            "--innodb-log-file-size=256M",
            // Test data is disposable: trade crash durability of the last second for speed.
            "--innodb-flush-log-at-trx-commit=2",
            "--innodb-doublewrite=0",
            "--character-set-server=utf8mb4",
            "--default-time-zone=+00:00",
            "--log-error=" + Path.Combine(_folder, "error.log"),
        };
        if (Environment.UserName == "root") args.Add("--user=root");
        _process = ServerProcess.Start(_mariadbd, args);
        try
        {
            await ServerProcess.WaitForTcpAsync(Port, _process, TimeSpan.FromSeconds(60));
        }
        catch (Exception ex)
        {
            var log = File.Exists(Path.Combine(_folder, "error.log")) ? File.ReadAllText(Path.Combine(_folder, "error.log")) : "";
            throw new InvalidOperationException($"MariaDB did not start: {ex.Message}\n{log}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
