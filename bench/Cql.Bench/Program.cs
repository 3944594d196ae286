using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using CustomerData.Cql;
using CustomerData.Cql.DevServer;

// Prepared upserts/s and point reads/s at 1, 8 and 64 requests in flight against the in-process
// CQL dev server, with p50/p99 latency. "raw wire" drives the same prepared statements with
// pre-encoded frames on one socket (no session, no pool, no decoding): the ceiling our client is
// compared with. Usage: dotnet run -c Release --project bench/Cql.Bench [-- --seconds 5 --rows 10000]
var seconds = ArgValue("--seconds", 5);
var rows = ArgValue("--rows", 10_000);
int[] inFlightLevels = [1, 8, 64];

await using var server = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 });
var options = CqlSessionOptions.Parse(server.ConnectionString());
options.DefaultConsistency = CqlConsistency.LocalOne;
await using var session = await CqlSession.ConnectAsync(options);
await session.ExecuteAsync("CREATE KEYSPACE bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
await session.ExecuteAsync("USE bench");
await session.ExecuteAsync("""
    CREATE TABLE customer_profile (customer_id int PRIMARY KEY, name text, email text, gender text,
      total_spend decimal, total_transactions int, avg_order_value decimal,
      first_purchase timestamp, last_purchase timestamp, favorite_category text)
    """);
var upsert = await session.PrepareAsync("""
    INSERT INTO customer_profile (customer_id, name, email, gender, total_spend, total_transactions, avg_order_value,
      first_purchase, last_purchase, favorite_category) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    """);
var read = await session.PrepareAsync("SELECT * FROM customer_profile WHERE customer_id = ?");
var first = new DateTimeOffset(2022, 3, 7, 6, 30, 0, TimeSpan.Zero);

object?[] Profile(int id) =>
    [id, $"Customer_{id}", $"customer_{id}@example.com", "M", 143949.50m + id, 6, 23991.58m, first, first.AddDays(id % 700), "Grocery"];

// Load the table once so reads hit existing rows.
await Parallel.ForEachAsync(Enumerable.Range(1, rows), new ParallelOptions { MaxDegreeOfParallelism = 64 },
    async (id, _) => await session.ExecuteAsync(upsert, Profile(id)));

Console.WriteLine($"CQL client vs dev server, {Environment.ProcessorCount} cores, {seconds}s per cell, {rows:N0} rows, .NET {Environment.Version}");
Console.WriteLine();
Console.WriteLine("| operation | client | in flight | ops/s | p50 ms | p99 ms | vs raw |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
foreach (var (name, prepared, makeValues) in new (string, CqlPreparedStatement, Func<int, object?[]>)[]
{
    ("prepared upsert", upsert, Profile),
    ("point read", read, id => [id]),
})
{
    foreach (var inFlight in inFlightLevels)
    {
        var raw = await RawWireAsync(prepared, makeValues, inFlight);
        var ours = await SessionAsync(prepared, makeValues, inFlight, name == "point read");
        Console.WriteLine($"| {name} | CqlSession | {inFlight} | {ours.OpsPerSecond:N0} | {ours.P50:F3} | {ours.P99:F3} | {ours.OpsPerSecond / raw.OpsPerSecond:P0} |");
        Console.WriteLine($"| {name} | raw wire | {inFlight} | {raw.OpsPerSecond:N0} | {raw.P50:F3} | {raw.P99:F3} | 100% |");
    }
}

async Task<Result> SessionAsync(CqlPreparedStatement statement, Func<int, object?[]> makeValues, int inFlight, bool verify)
{
    var stop = Stopwatch.StartNew();
    var duration = TimeSpan.FromSeconds(seconds);
    var latencies = new List<double>[inFlight];
    var workers = Enumerable.Range(0, inFlight).Select(w => Task.Run(async () =>
    {
        var mine = latencies[w] = new List<double>(1 << 16);
        var random = new Random(w);
        while (stop.Elapsed < duration)
        {
            var id = random.Next(1, rows + 1);
            var started = Stopwatch.GetTimestamp();
            var result = await session.ExecuteAsync(statement, makeValues(id));
            mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (verify && result.Rows[0].GetInt32(0) != id) throw new InvalidOperationException("wrong row");
        }
    })).ToArray();
    await Task.WhenAll(workers);
    return Result.From(latencies.SelectMany(l => l).ToArray(), stop.Elapsed);
}

// Baseline: one socket, frames encoded once, N requests kept in flight; responses are read in
// large chunks, only their headers parsed, and the freed stream ids resent in one write.
async Task<Result> RawWireAsync(CqlPreparedStatement statement, Func<int, object?[]> makeValues, int inFlight)
{
    using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    await socket.ConnectAsync(server.Host, server.Port);
    await using var stream = new NetworkStream(socket);
    await stream.WriteAsync(Frame(0, 0x01, w => w.AddRange(StringMap(("CQL_VERSION", "3.0.0")))));
    var header = new byte[9];
    await stream.ReadExactlyAsync(header);
    await stream.ReadExactlyAsync(new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5))]);

    var frames = Enumerable.Range(1, 1024).Select(id => ExecuteFrame(statement, makeValues(id))).ToArray();
    var sentAt = new long[inFlight];
    var latencies = new List<double>(1 << 20);
    var duration = TimeSpan.FromSeconds(seconds);
    var output = new MemoryStream();
    var buffer = new byte[1 << 20];
    int start = 0, end = 0, next = 0;
    var stop = Stopwatch.StartNew();
    for (short s = 0; s < inFlight; s++) Queue(s);
    await Flush();
    var outstanding = inFlight;
    while (outstanding > 0)
    {
        var read = await stream.ReadAsync(buffer.AsMemory(end));
        if (read == 0) throw new InvalidOperationException("server closed the raw connection");
        end += read;
        while (end - start >= 9)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(start + 5));
            if (end - start < 9 + length) break;
            if (buffer[start + 4] == 0x00) throw new InvalidOperationException("raw baseline got an ERROR frame");
            var streamId = BinaryPrimitives.ReadInt16BigEndian(buffer.AsSpan(start + 2));
            start += 9 + length;
            latencies.Add(Stopwatch.GetElapsedTime(sentAt[streamId]).TotalMilliseconds);
            if (stop.Elapsed < duration) Queue(streamId);
            else outstanding--;
        }
        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
        end -= start;
        start = 0;
        await Flush();
    }
    return Result.From([.. latencies], stop.Elapsed);

    void Queue(short streamId)
    {
        var frame = frames[next++ % frames.Length];
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(2), streamId);
        sentAt[streamId] = Stopwatch.GetTimestamp();
        output.Write(frame);
    }

    async Task Flush()
    {
        if (output.Length == 0) return;
        await stream.WriteAsync(output.GetBuffer().AsMemory(0, (int)output.Length));
        output.SetLength(0);
    }
}

static byte[] ExecuteFrame(CqlPreparedStatement statement, object?[] values)
{
    var body = new List<byte>();
    var id = statement.Id;
    body.AddRange(BigEndianShort((short)id.Length));
    body.AddRange(id);
    body.AddRange(BigEndianShort((short)CqlConsistency.LocalOne));
    body.Add(0x01 | 0x04);
    body.AddRange(BigEndianShort((short)values.Length));
    for (var i = 0; i < values.Length; i++)
    {
        var bytes = CustomerData.Cql.Protocol.CqlValueCodec.Encode(statement.Variables[i].Type, values[i])!;
        body.AddRange(BigEndian(bytes.Length));
        body.AddRange(bytes);
    }
    body.AddRange(BigEndian(5000));
    return Frame(0, 0x0A, b => b.AddRange(body));
}

static byte[] Frame(short streamId, byte opcode, Action<List<byte>> write)
{
    var body = new List<byte>();
    write(body);
    var frame = new List<byte> { 4, 0 };
    frame.AddRange(BigEndianShort(streamId));
    frame.Add(opcode);
    frame.AddRange(BigEndian(body.Count));
    frame.AddRange(body);
    return [.. frame];
}

static IEnumerable<byte> StringMap(params (string Key, string Value)[] entries)
{
    var bytes = new List<byte>(BigEndianShort((short)entries.Length));
    foreach (var (key, value) in entries)
    {
        bytes.AddRange(BigEndianShort((short)key.Length));
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(key));
        bytes.AddRange(BigEndianShort((short)value.Length));
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(value));
    }
    return bytes;
}

static byte[] BigEndian(int value) => BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness(value));
static byte[] BigEndianShort(short value) => BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness(value));

static int ArgValue(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1]) : fallback;
}

internal sealed record Result(double OpsPerSecond, double P50, double P99)
{
    public static Result From(double[] latencies, TimeSpan elapsed)
    {
        Array.Sort(latencies);
        double At(double q) => latencies.Length == 0 ? 0 : latencies[Math.Min(latencies.Length - 1, (int)(q * latencies.Length))];
        return new Result(latencies.Length / elapsed.TotalSeconds, At(0.50), At(0.99));
    }
}
