using System.Diagnostics;
using System.Net.Http;
using CustomerData.TestServers;

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>The service as deployed: the Pipelines.Profile executable with the AppHost's environment variables.</summary>
public sealed class ProfileHostTests(MariaDbFixture maria, CqlDevServerFixture cql)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Once_and_rebuild_exit_with_zero_after_writing_the_profiles_and_one_when_cassandra_is_down()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 25, products: 8, transactions: 250, seed: 31);
        var environment = Environment(bed, bed.Cql.ConnectionString(bed.Keyspace));

        var (once, onceOutput) = await RunToExitAsync(["--once"], environment);
        Assert.True(once == 0, onceOutput);
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
        Assert.Equal(250, await bed.StoredOffsetAsync());

        var (rebuild, rebuildOutput) = await RunToExitAsync(["--rebuild"], environment);
        Assert.True(rebuild == 0, rebuildOutput);
        Assert.Contains("Rebuild progress", rebuildOutput);

        await bed.AddTransactionsAsync(5, customers: 25, products: 8, new Random(32));
        var down = Environment(bed, $"Contact Points=127.0.0.1:{ServerProcess.FreeTcpPort()};Keyspace={bed.Keyspace}");
        var (failed, failedOutput) = await RunToExitAsync(["--once"], down);
        Assert.True(failed == 1, failedOutput);
        Assert.Equal(250, await bed.StoredOffsetAsync());
    }

    [Fact]
    public async Task Continuous_mode_serves_health_once_a_cycle_has_finished()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 10, products: 5, transactions: 50, seed: 33);
        var port = ServerProcess.FreeTcpPort();
        var environment = Environment(bed, bed.Cql.ConnectionString(bed.Keyspace));
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";

        using var process = Start(["--interval", "1"], environment, out var output);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            var healthy = false;
            while (!healthy && DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    healthy = (await http.GetAsync($"http://127.0.0.1:{port}/health", Ct)).IsSuccessStatusCode
                        && await bed.StoredOffsetAsync() == 50;
                }
                catch (HttpRequestException)
                {
                }
                if (!healthy) await Task.Delay(250, Ct);
            }
            Assert.True(healthy, "no healthy /health with the offset at 50 within 60 s:\n" + output);

            // The next cycles pick up new transactions without a restart.
            await bed.AddTransactionsAsync(10, customers: 10, products: 5, new Random(34));
            deadline = DateTime.UtcNow.AddSeconds(30);
            while (await bed.StoredOffsetAsync() < 60 && DateTime.UtcNow < deadline) await Task.Delay(250, Ct);
            Assert.Equal(60, await bed.StoredOffsetAsync());
            ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Continuous_mode_reconciles_on_its_configured_interval_and_repairs_a_delete()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 10, products: 5, transactions: 50, seed: 35);
        var environment = Environment(bed, bed.Cql.ConnectionString(bed.Keyspace));
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ServerProcess.FreeTcpPort()}";
        // Profile:Reconcile:Interval as the AppHost passes it (environment), 1 s here so the test waits little.
        environment["Profile__Reconcile__Interval"] = "00:00:01";

        using var process = Start(["--interval", "0.5"], environment, out var output);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await bed.StoredOffsetAsync() < 50 && DateTime.UtcNow < deadline && !process.HasExited) await Task.Delay(250, Ct);
            Assert.True(await bed.StoredOffsetAsync() == 50, "offset not at 50 within 60 s:\n" + output);

            // A DELETE no cycle sees: only a reconcile pass brings the table back to the source.
            Assert.Contains(4, (await bed.ReadTableAsync()).Keys);
            await bed.ExecuteAsync("DELETE FROM transactions WHERE customer_id = 4");
            var expected = await bed.ExpectedProfilesAsync();
            deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await bed.ReadTableAsync()).ContainsKey(4) && DateTime.UtcNow < deadline) await Task.Delay(250, Ct);
            ProfileTestBed.AssertSameProfiles(expected, await bed.ReadTableAsync());
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Once_while_another_instance_holds_the_writer_lock_says_so_retries_and_exits_one()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 5, products: 3, transactions: 20, seed: 36);
        var environment = Environment(bed, bed.Cql.ConnectionString(bed.Keyspace));
        environment["Profile__LockTimeout"] = "00:00:00";
        environment["Profile__RunAttempts"] = "2";
        environment["Profile__RunRetryDelay"] = "00:00:00.100";

        await using (var held = await CustomerData.Pipelines.Common.SourceLock.TryAcquireAsync(bed.DataSource, "profile", "transactions", TimeSpan.Zero, Ct))
        {
            Assert.NotNull(held);
            var (exitCode, output) = await RunToExitAsync(["--once"], environment);

            Assert.Equal(1, exitCode);
            Assert.Contains("another instance holds the writer lock", output, StringComparison.Ordinal);
            Assert.Contains("Profile run attempt 1 of 2 failed", output, StringComparison.Ordinal);
            Assert.Equal(0, await bed.StoredOffsetAsync());
        }
        Assert.Equal(0, (await RunToExitAsync(["--once"], environment)).ExitCode);
        Assert.Equal(20, await bed.StoredOffsetAsync());
    }

    internal static Dictionary<string, string> Environment(ProfileTestBed bed, string cassandra) => new()
    {
        ["ConnectionStrings__customerdb"] = bed.ConnectionString,
        ["ConnectionStrings__cassandra"] = cassandra,
        // Generous for a loaded machine (a fresh process's handshake); the "down" case is refused at once anyway.
        ["Cassandra__cassandra__Session__ConnectTimeout"] = "00:00:10",
        ["Profile__Consistency"] = "ONE",
        ["Profile__MaxAttempts"] = "2",
        ["Profile__RetryBaseDelay"] = "00:00:00.010",
        ["Logging__LogLevel__Default"] = "Information",
    };

    internal static Process Start(string[] args, Dictionary<string, string> environment, out System.Text.StringBuilder output)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Pipelines.Profile.dll"));
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) psi.Environment[key] = value;
        var text = new System.Text.StringBuilder();
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { lock (text) text.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (text) text.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        output = text;
        return process;
    }

    private static async Task<(int ExitCode, string Output)> RunToExitAsync(string[] args, Dictionary<string, string> environment)
    {
        using var process = Start(args, environment, out var output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("Pipelines.Profile did not exit within 90 s:\n" + output);
        }
        process.WaitForExit(); // drains the output
        lock (output) return (process.ExitCode, output.ToString());
    }
}
