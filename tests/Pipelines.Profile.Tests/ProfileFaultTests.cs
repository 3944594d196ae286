using CustomerData.TestServers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using CustomerData.Cql.DevServer;

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>The dev server's faults hit every client, so these tests run alone.</summary>
[CollectionDefinition(nameof(ProfileFaultTests), DisableParallelization = true)]
public sealed class FaultCollection;

/// <summary>Transient Cassandra errors: retried with backoff; a cycle that still cannot finish keeps its offset.</summary>
[Collection(nameof(ProfileFaultTests))]
public sealed class ProfileFaultTests(MariaDbFixture maria, CqlDevServerFixture cql)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Injected_write_timeouts_are_retried_and_the_table_is_complete()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        var runner = await bed.CreateRunnerAsync(o => o.MaxInFlight = 8, sessionKeyspace: false);
        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded); // empty source: creates keyspace and table
        await bed.SeedAsync(customers: 60, products: 10, transactions: 600, seed: 14);

        bed.Cql.Faults.FailNext(40, CqlFaultKind.WriteTimeout);
        var result = await runner.RunCycleAsync(CycleMode.Rebuild, Ct);

        Assert.True(result.Succeeded, result.Error?.ToString());
        Assert.Equal(0, bed.Cql.Faults.Remaining);
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
        Assert.Equal(600, await bed.StoredOffsetAsync());
    }

    [Fact]
    public async Task A_cycle_while_MySQL_is_unreachable_is_a_failed_result_not_an_exception_and_the_next_one_catches_up()
    {
        // Found by bench/Faults (MariaDB restarted): the writer lock's connection failed outside the cycle's error handling,
        // the exception ended the continuous worker and the service never recovered.
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 10, products: 4, transactions: 40, seed: 17);
        var unreachable = new MySqlConnector.MySqlConnectionStringBuilder(bed.ConnectionString) { Port = (uint)ServerProcess.FreeTcpPort(), ConnectionTimeout = 2 };
        await using var downSource = new MySqlConnector.MySqlDataSource(unreachable.ConnectionString);
        var options = new ProfileOptions { Keyspace = bed.Keyspace };
        await using var session = await bed.ConnectAsync();
        var down = new ProfileCycleRunner(new MySqlProfileSource(downSource, options),
            new CassandraProfileStore(session, Options.Create(options), NullLogger<CassandraProfileStore>.Instance), Options.Create(options),
            new ProfileCycleState(bed.Time), bed.Time, NullLogger<ProfileCycleRunner>.Instance);

        var failed = await down.RunCycleAsync(CycleMode.Incremental, Ct);

        Assert.False(failed.Succeeded);
        Assert.False(failed.Skipped);
        Assert.IsType<MySqlConnector.MySqlException>(failed.Error);
        Assert.Equal(0, await bed.StoredOffsetAsync());
        var next = await (await bed.CreateRunnerAsync()).RunCycleAsync(CycleMode.Incremental, Ct);
        Assert.True(next.Succeeded, next.Error?.ToString());
        Assert.Equal(40, await bed.StoredOffsetAsync());
    }

    [Fact]
    public async Task A_cycle_that_cannot_write_leaves_the_offset_and_the_next_one_finishes_the_work()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 20, products: 5, transactions: 100, seed: 15);
        var runner = await bed.CreateRunnerAsync(o => o.MaxAttempts = 2, sessionKeyspace: false);
        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);
        await bed.AddTransactionsAsync(30, customers: 20, products: 5, new Random(16));

        bed.Cql.Faults.FailNext(100_000, CqlFaultKind.Unavailable);
        CycleResult failed;
        try
        {
            failed = await runner.RunCycleAsync(CycleMode.Incremental, Ct);
        }
        finally
        {
            bed.Cql.Faults.Reset();
        }

        Assert.False(failed.Succeeded);
        Assert.IsType<CustomerData.Cql.CqlUnavailableException>(failed.Error);
        Assert.Equal(100, await bed.StoredOffsetAsync());

        var retried = await runner.RunCycleAsync(CycleMode.Incremental, Ct);
        Assert.True(retried.Succeeded, retried.Error?.ToString());
        Assert.Equal(130, retried.OffsetAfter);
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
    }

}
