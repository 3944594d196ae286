using System.Diagnostics;
using System.Text.Json;

namespace CustomerData.Cql.Tests;

/// <summary>
/// The DataStax Python driver (python3-cassandra) against the dev server: it connects (system and
/// schema queries, protocol negotiation from its newest version down), creates a table, writes with
/// simple and prepared statements, pages, and reads the rows our client wrote; we read its rows back.
/// </summary>
public sealed class PythonInteropTests(DevServerFixture fixture)
{
    private const string Python = "/usr/bin/python3";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Python_driver_and_our_client_read_each_others_rows()
    {
        Assert.True(File.Exists(Python), $"{Python} is missing: install the DataStax Python driver with `apt-get install python3-cassandra`.");
        var probe = await RunAsync(["-c", "import cassandra"], TimeSpan.FromSeconds(30));
        Assert.True(probe.ExitCode == 0, $"The Python module 'cassandra' is missing for {Python}: `apt-get install python3-cassandra`. {probe.Stderr}");

        await using var session = await fixture.SessionWithKeyspaceAsync("interop_ks");
        await session.ExecuteAsync("""
            CREATE TABLE IF NOT EXISTS cs_items (
                id int PRIMARY KEY, name text, amount decimal, seen timestamp, ok boolean,
                ratio double, big bigint, uid uuid, day date)
            """, cancellationToken: Ct);
        var insert = await session.PrepareAsync("INSERT INTO cs_items (id, name, amount, seen, ok, ratio, big, uid, day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", Ct);
        var seen = new DateTimeOffset(2024, 5, 18, 18, 17, 40, 123, TimeSpan.Zero);
        var written = Enumerable.Range(1, 7).Select(i => new object?[]
        {
            i, $"cs_{i} ü", -i * 1000.25m, seen.AddDays(i), i % 2 == 1, i / 8.0, long.MaxValue - i,
            new Guid($"00000000-0000-0000-0000-{i:D12}"), new DateOnly(2025, 12, i),
        }).ToList();
        foreach (var values in written) await session.ExecuteAsync(insert, values, cancellationToken: Ct);
        await session.ExecuteAsync(insert, [100, null, null, null, null, null, null, null, null], cancellationToken: Ct);

        var script = Path.Combine(AppContext.BaseDirectory, "interop.py");
        var run = await RunAsync([script, fixture.Server.Host, fixture.Server.Port.ToString(), DevServerFixture.Username, DevServerFixture.Password, "interop_ks"], TimeSpan.FromSeconds(90));
        Assert.True(run.ExitCode == 0, $"interop.py failed ({run.ExitCode}):\n{run.Stderr}\n{run.Stdout}");
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;

        Assert.Equal(4, root.GetProperty("protocol_version").GetInt32());
        Assert.Equal(251, root.GetProperty("scan_count").GetInt32());
        Assert.Equal(251, root.GetProperty("scan_distinct").GetInt32());
        var row7 = root.GetProperty("row7");
        Assert.Equal("py_7", row7.GetProperty("name").GetString());
        Assert.Equal("7.25", row7.GetProperty("amount").GetString());
        Assert.Equal("2024-05-18T18:17:40.123000", row7.GetProperty("seen").GetString());
        Assert.Equal("2025-12-10", row7.GetProperty("day").GetString());
        Assert.Equal(-7_000_000_000_000, row7.GetProperty("big").GetInt64());
        var row1 = root.GetProperty("row1");
        Assert.Equal(("it's simple", "12.50", true, 9007199254740993L),
            (row1.GetProperty("name").GetString(), row1.GetProperty("amount").GetString(), row1.GetProperty("ok").GetBoolean(), row1.GetProperty("big").GetInt64()));

        // What Python read from the rows our client wrote.
        var csItems = root.GetProperty("cs_items").EnumerateArray().ToList();
        Assert.Equal(8, csItems.Count);
        for (var i = 0; i < written.Count; i++)
        {
            var expected = written[i];
            var actual = csItems[i];
            Assert.Equal((int)expected[0]!, actual.GetProperty("id").GetInt32());
            Assert.Equal((string)expected[1]!, actual.GetProperty("name").GetString());
            Assert.Equal((decimal)expected[2]!, decimal.Parse(actual.GetProperty("amount").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(((DateTimeOffset)expected[3]!).UtcDateTime, DateTime.Parse(actual.GetProperty("seen").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal((bool)expected[4]!, actual.GetProperty("ok").GetBoolean());
            Assert.Equal((double)expected[5]!, actual.GetProperty("ratio").GetDouble());
            Assert.Equal((long)expected[6]!, actual.GetProperty("big").GetInt64());
            Assert.Equal(expected[7]!.ToString(), actual.GetProperty("uid").GetString());
            Assert.Equal(((DateOnly)expected[8]!).ToString("yyyy-MM-dd"), actual.GetProperty("day").GetString());
        }
        Assert.Equal(JsonValueKind.Null, csItems[7].GetProperty("name").ValueKind);

        // And our client reads what Python wrote.
        var py = (await session.ExecuteAsync("SELECT id, name, amount, seen, ok, ratio, big, uid, day FROM py_items WHERE id = 8", cancellationToken: Ct)).Rows.Single();
        Assert.Equal(("py_8", 8.25m, seen, true, 2.0, -8_000_000_000_000L, new Guid("00000000-0000-0000-0000-000000000008"), new DateOnly(2025, 12, 10)),
            (py.GetString("name"), py.GetDecimal("amount"), py.GetTimestamp("seen"), py.GetBoolean("ok"), py.GetDouble("ratio"), py.GetInt64("big"), py.GetGuid("uid"), py.GetDate("day")));
        var simple = (await session.ExecuteAsync("SELECT name, amount, ok, seen FROM py_items WHERE id = 1", cancellationToken: Ct)).Rows.Single();
        Assert.Equal(("it's simple", 12.50m, true), (simple.GetString(0), simple.GetDecimal(1), simple.GetBoolean(2)));
        Assert.True(simple.IsNull(3));
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        try
        {
            await process.WaitForExitAsync(Ct).WaitAsync(timeout, Ct);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"python3 did not finish within {timeout}: {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
