using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HdrHistogram;

namespace CustomerData.Bench.Api;

/// <summary>The four endpoint kinds of SPEC §7.</summary>
public enum Kind { Events, SummaryDay, SummaryCustomer, Customer }

/// <summary>One request: its kind and path, plus what a bare DuckDB query needs to ask the same question.</summary>
public sealed record BenchRequest(Kind Kind, string Path, int CustomerId, DateOnly Day, DateOnly? From, DateOnly? To, int Limit)
{
    public byte[] Bytes { get; } = Encoding.ASCII.GetBytes($"GET {Path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {BenchToken.Value}\r\n\r\n");
}

/// <summary>Latencies (µs) and answers of one kind of request in one run.</summary>
public sealed class KindStats
{
    public LongHistogram Latency { get; } = new(60_000_000, 3);
    public long Ok, NotFound, Errors;

    public void Add(KindStats other)
    {
        Latency.Add(other.Latency);
        Ok += other.Ok;
        NotFound += other.NotFound;
        Errors += other.Errors;
    }
}

public sealed class RunResult(string name, int connections, bool paced, TimeSpan elapsed, KindStats[] kinds, double load1)
{
    public string Name { get; } = name;
    public int Connections { get; } = connections;
    public bool Paced { get; } = paced;
    public TimeSpan Elapsed { get; } = elapsed;
    public KindStats[] Kinds { get; } = kinds;
    public double LoadAverage { get; } = load1;

    /// <summary>CPU the server process used during the run (null: in process, see <see cref="ClientCpuSeconds"/>).</summary>
    public double? ServerCpuSeconds { get; set; }

    /// <summary>CPU this process (the load generator, the CQL dev server, or bare DuckDB) used during the run.</summary>
    public double ClientCpuSeconds { get; set; }

    public long Requests => Kinds.Sum(k => k.Ok + k.NotFound + k.Errors);
    public long Errors => Kinds.Sum(k => k.Errors);
    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;

    public KindStats All
    {
        get
        {
            var all = new KindStats();
            foreach (var k in Kinds) all.Add(k);
            return all;
        }
    }
}

/// <summary>
/// A closed-loop HTTP/1.1 load generator over raw keep-alive sockets (pre-encoded requests, a minimal response
/// parser), so it costs the shared CPUs as little as possible. Each connection sends, reads the whole answer,
/// records the latency per kind in an HdrHistogram, and (paced) waits before the next request.
/// </summary>
public static class LoadGenerator
{
    public static async Task<RunResult> RunAsync(string name, int port, int connections, TimeSpan duration, TimeSpan pause,
        Func<int, Func<BenchRequest>> requestsForConnection)
    {
        var conns = new HttpConnection[connections];
        for (var i = 0; i < connections; i++) conns[i] = await HttpConnection.OpenAsync(port);
        var stats = Enumerable.Range(0, connections).Select(_ => Enum.GetValues<Kind>().Select(_ => new KindStats()).ToArray()).ToArray();
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var tasks = Enumerable.Range(0, connections).Select(i => Task.Run(async () =>
        {
            var next = requestsForConnection(i);
            var conn = conns[i];
            var mine = stats[i];
            while (Stopwatch.GetTimestamp() < end)
            {
                var request = next();
                var kind = mine[(int)request.Kind];
                var sent = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    status = await conn.SendAsync(request.Bytes);
                }
                catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException)
                {
                    kind.Errors++;
                    conn.Dispose();
                    conn = await HttpConnection.OpenAsync(port);
                    continue;
                }
                var micros = (Stopwatch.GetTimestamp() - sent) * 1_000_000 / Stopwatch.Frequency;
                kind.Latency.RecordValue(Math.Min(micros, 60_000_000));
                if (status is >= 200 and < 300) kind.Ok++;
                else if (status == 404) kind.NotFound++;
                else kind.Errors++;
                if (pause > TimeSpan.Zero) await Task.Delay(pause);
            }
            conn.Dispose();
        })).ToArray();
        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(start);
        var merged = Enum.GetValues<Kind>().Select(_ => new KindStats()).ToArray();
        foreach (var s in stats)
        {
            for (var k = 0; k < merged.Length; k++) merged[k].Add(s[k]);
        }
        return new RunResult(name, connections, pause > TimeSpan.Zero, elapsed, merged, LoadAverage());
    }

    public static double LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}

/// <summary>One keep-alive connection: writes a request, reads status, headers and the whole body (Content-Length or chunked).</summary>
public sealed class HttpConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;

    private HttpConnection(Socket socket) => _socket = socket;

    public static async Task<HttpConnection> OpenAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return new HttpConnection(socket);
    }

    /// <summary>Sends the request and reads its full response; returns the status code.</summary>
    public async Task<int> SendAsync(byte[] request)
    {
        await _socket.SendAsync(request, SocketFlags.None);
        int headerEnd;
        while ((headerEnd = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0) await FillAsync();
        var head = _buffer.AsSpan(_start, headerEnd);
        if (head.Length < 12 || !Utf8Parser.TryParse(head.Slice(9, 3), out int status, out _)) throw new InvalidDataException("bad status line");
        long contentLength = -1;
        var chunked = false;
        foreach (var range in head.Split("\r\n"u8))
        {
            var line = head[range];
            if (line.Length > 15 && Ascii.EqualsIgnoreCase(line[..15], "content-length:"u8))
            {
                Utf8Parser.TryParse(line[15..].Trim((byte)' '), out contentLength, out _);
            }
            else if (line.Length > 18 && Ascii.EqualsIgnoreCase(line[..18], "transfer-encoding:"u8) && line.IndexOf("chunked"u8) >= 0)
            {
                chunked = true;
            }
        }
        _start += headerEnd + 4;
        if (status is 204 or 304) return status;
        if (contentLength >= 0)
        {
            await SkipAsync(contentLength);
        }
        else if (chunked)
        {
            while (true)
            {
                var line = await ReadLineAsync();
                var semicolon = line.IndexOf(';');
                var size = Convert.ToInt64(semicolon >= 0 ? line[..semicolon] : line, 16);
                if (size == 0)
                {
                    while ((await ReadLineAsync()).Length > 0) { }
                    break;
                }
                await SkipAsync(size);
                await ReadLineAsync();
            }
        }
        else
        {
            throw new InvalidDataException("response without Content-Length or chunked body");
        }
        return status;
    }

    private async Task FillAsync()
    {
        if (_start == _end) _start = _end = 0;
        if (_end == _buffer.Length)
        {
            if (_start == 0) throw new InvalidDataException("headers larger than the buffer");
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        var n = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None);
        if (n == 0) throw new IOException("connection closed by the server");
        _end += n;
    }

    private async Task SkipAsync(long count)
    {
        while (count > 0)
        {
            if (_start == _end) await FillAsync();
            var take = (int)Math.Min(count, _end - _start);
            _start += take;
            count -= take;
        }
    }

    private async Task<string> ReadLineAsync()
    {
        int at;
        while ((at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0) await FillAsync();
        var line = Encoding.ASCII.GetString(_buffer, _start, at);
        _start += at + 2;
        return line;
    }

    public void Dispose() => _socket.Dispose();
}
