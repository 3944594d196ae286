using System.Diagnostics;
using System.Globalization;
using CustomerData.TestServers;

namespace CustomerData.Bench.Faults;

/// <summary>
/// A platform service as a real child process (<c>dotnet Project.dll</c> from its Release output), its output in a log
/// file, on a fixed port kept across restarts so its <c>/health</c> stays at one address. <see cref="Kill9"/> is SIGKILL.
/// </summary>
public sealed class ChildService : IAsyncDisposable
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly string _dll;
    private readonly string[] _args;
    private readonly Dictionary<string, string?> _environment;
    private readonly string _logFile;
    private Process? _process;

    public ChildService(string name, string project, IReadOnlyDictionary<string, string?> environment, string logFolder, params string[] args)
    {
        Name = name;
        _dll = ProjectDll(project);
        _args = args;
        Port = ServerProcess.FreeTcpPort();
        _logFile = Path.Combine(logFolder, name + ".log");
        _environment = new Dictionary<string, string?>(environment)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Port}",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            // The inotify instance limit: no config file watchers.
            ["DOTNET_hostBuilder__reloadConfigOnChange"] = "false",
            ["ASPNETCORE_hostBuilder__reloadConfigOnChange"] = "false",
        };
    }

    public string Name { get; }
    public int Port { get; }
    public int Starts { get; private set; }
    public bool Running => _process is { HasExited: false };

    public void Start()
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(_dll)! };
        info.ArgumentList.Add(_dll);
        foreach (var a in _args) info.ArgumentList.Add(a);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        foreach (var (k, v) in _environment) info.Environment[k] = v;
        var log = new StreamWriter(_logFile, append: true) { AutoFlush = true };
        lock (log) log.WriteLine($"---- start {++Starts} at {DateTime.UtcNow:O}");
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.Exited += (_, _) => { lock (log) log.Dispose(); };
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>SIGKILL (.NET's Process.Kill on Linux): no shutdown hooks, no flush, as a crash or an OOM kill.</summary>
    public async Task Kill9Async()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>The /health answer: Healthy, Degraded, Unhealthy; "down" when the port refuses, "no answer in 2 s" when it hangs.</summary>
    public async Task<string> HealthAsync()
    {
        try
        {
            using var response = await s_http.GetAsync($"http://127.0.0.1:{Port}/health");
            return (await response.Content.ReadAsStringAsync()).Trim() is { Length: > 0 and < 20 } body ? body : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            return "down";
        }
        catch (TaskCanceledException)
        {
            return "no answer in 2 s";
        }
    }

    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (await HealthAsync() != "Healthy")
        {
            if (_process is { HasExited: true }) throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}); see {_logFile}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Name} was not healthy within {timeout.TotalSeconds:F0} s; see {_logFile}");
            await Task.Delay(200);
        }
    }

    /// <summary>Runs a one-shot mode of a project (e.g. <c>--rebuild</c>) to its end; throws unless it exits 0.</summary>
    public static async Task RunToEndAsync(string project, IReadOnlyDictionary<string, string?> environment, string logFolder, string name, params string[] args)
    {
        await using var child = new ChildService(name, project, environment, logFolder, args);
        child.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await child._process!.WaitForExitAsync(timeout.Token);
        if (child._process.ExitCode != 0) throw new InvalidOperationException($"{name} exited {child._process.ExitCode}; see {child._logFile}");
    }

    public async ValueTask DisposeAsync()
    {
        await Kill9Async();
        _process?.Dispose();
    }

    private static string ProjectDll(string project)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "aspire.sln"))) continue;
            var dll = Path.Combine(dir.FullName, project, "bin", "Release", "net10.0", project + ".dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build first: dotnet build bench/Faults -c Release", dll);
        }
        throw new InvalidOperationException("aspire.sln not found above " + AppContext.BaseDirectory);
    }
}
