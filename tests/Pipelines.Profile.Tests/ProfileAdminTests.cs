using System.Net;
using CustomerData.TestServers;
using CustomerData.Tests.Shared;

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>Issue 17: <c>/admin/profiles/rebuild</c> of the Pipelines.Profile executable over real MariaDB and the CQL dev server.</summary>
public sealed class ProfileAdminTests(MariaDbFixture maria, CqlDevServerFixture cql)
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_admin_rebuild_brings_every_profile_back_to_the_source_and_a_second_start_while_it_runs_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 12, products: 5, transactions: 60, seed: 41);
        var port = ServerProcess.FreeTcpPort();
        var environment = ProfileHostTests.Environment(bed, bed.Cql.ConnectionString(bed.Keyspace));
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        environment["Profile__Reconcile__Interval"] = "01:00:00";
        environment["Profile__LockTimeout"] = "00:00:30";
        foreach (var (key, value) in OpsTestTokens.Environment) environment[key] = value;
        using var process = ProfileHostTests.Start(["--interval", "0.5"], environment, out var output);
        try
        {
            var deadline = DateTime.UtcNow + s_bound;
            while (await bed.StoredOffsetAsync() < 60 && DateTime.UtcNow < deadline && !process.HasExited) await Task.Delay(200, ct);
            Assert.True(await bed.StoredOffsetAsync() == 60, "offset not at 60:\n" + output);

            // Changes no incremental cycle sees (below the offset), and no reconcile pass runs during the test.
            await bed.ExecuteAsync("UPDATE transactions SET amount = amount + 100 WHERE customer_id = 3");
            await bed.ExecuteAsync("DELETE FROM transactions WHERE customer_id = 5");
            var expected = await bed.ExpectedProfilesAsync();

            var address = new Uri($"http://127.0.0.1:{port}");
            using var anonymous = new HttpClient { BaseAddress = address };
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/admin/" + ProfileAdminEndpoints.RebuildPath, null, ct)).StatusCode);
            using var reader = new HttpClient { BaseAddress = address };
            reader.DefaultRequestHeaders.Authorization = new("Bearer", OpsTestTokens.Create("customers:read"));
            Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync("/admin/" + ProfileAdminEndpoints.RebuildPath, null, ct)).StatusCode);

            using var client = OpsTestTokens.Operator(address);
            HttpResponseMessage second;
            await using (var held = await CustomerData.Pipelines.Common.SourceLock.TryAcquireAsync(bed.DataSource, "profile", "transactions", TimeSpan.FromSeconds(30), ct))
            {
                Assert.NotNull(held); // the rebuild waits for the writer lock, so it is still running at the second start
                Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/admin/" + ProfileAdminEndpoints.RebuildPath, null, ct)).StatusCode);
                second = await client.PostAsync("/admin/" + ProfileAdminEndpoints.RebuildPath, null, ct);
            }
            Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
            Assert.Contains("A profile rebuild is already running", (await OpsTestTokens.EnvelopeAsync(second)).Message, StringComparison.Ordinal);

            var done = await OpsTestTokens.WaitForOperationAsync(client, ProfileAdminEndpoints.RebuildPath, s_bound);
            Assert.True(done.GetProperty("state").GetString() == "succeeded", done + "\n" + output);
            // Customer 5 has no transactions left: removing its profile is the reconcile pass's job, not asserted here.
            var table = await bed.ReadTableAsync();
            table.Remove(5);
            expected.Remove(5);
            ProfileTestBed.AssertSameProfiles(expected, table);
            lock (output) Assert.Contains("Operator command: profile rebuild done", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }
}
