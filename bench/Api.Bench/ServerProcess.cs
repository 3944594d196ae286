using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CustomerData.Bench.Api;

/// <summary>A server under test in its own process (the API's Release build, or this bench's ceiling mode), its log in a file, its peak RSS from /proc.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ServerProcess(Process process, StreamWriter log, int port)
    {
        _process = process;
        _log = log;
        Port = port;
    }

    public int Port { get; }
    public int Pid => _process.Id;

    public static async Task<ServerProcess> StartAsync(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment,
        string logFile, Func<int, IReadOnlyDictionary<string, string?>> portEnvironment, string workingDirectory, int? port = null)
    {
        var chosen = port ?? FreePort();
        // The working directory is the content root: the API's appsettings.json is read from its output folder, as deployed.
        var info = new ProcessStartInfo(fileName) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }
        foreach (var (k, v) in environment) info.Environment[k] = v;
        foreach (var (k, v) in portEnvironment(chosen)) info.Environment[k] = v;
        var log = new StreamWriter(logFile) { AutoFlush = true };
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, log, chosen);
        try
        {
            await server.WaitHealthyAsync(logFile);
        }
        catch
        {
            await server.DisposeAsync(); // a server that never became healthy is not left running
            throw;
        }
        return server;
    }

    private async Task WaitHealthyAsync(string logFile)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the server exited ({_process.ExitCode}); see {logFile}");
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{Port}/health");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"the server did not report healthy within 90 s; see {logFile}");
    }

    /// <summary>User + system CPU time the process has used so far, in seconds (/proc/pid/stat).</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name; in clock ticks (100 a second on Linux).
        return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>VmHWM: the process's peak resident set so far, in MB.</summary>
    public double PeakRssMb() => StatusKb("VmHWM:") / 1024.0;

    /// <summary>VmRSS: the process's resident set now, in MB.</summary>
    public double RssMb() => StatusKb("VmRSS:") / 1024.0;

    private long StatusKb(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal)) return long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        return 0;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        lock (_log) _log.Dispose();
    }
}
