using CustomerData.Cql.DevServer;

namespace CustomerData.Cql.Tests;

/// <summary>Retries under injected faults, timeouts, reconnect after restart, protocol negotiation. Each test owns its server.</summary>
public sealed class ResilienceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(CqlDevServer Server, CqlSession Session, CqlPreparedStatement Upsert)> StartAsync(Action<CqlSessionOptions>? configure = null)
    {
        var server = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 }, cancellationToken: Ct);
        var options = CqlSessionOptions.Parse(server.ConnectionString());
        options.RetryBaseDelay = TimeSpan.FromMilliseconds(5);
        configure?.Invoke(options);
        var session = await CqlSession.ConnectAsync(options, cancellationToken: Ct);
        await session.ExecuteAsync("CREATE KEYSPACE IF NOT EXISTS r WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", cancellationToken: Ct);
        await session.ExecuteAsync("USE r", cancellationToken: Ct);
        await session.ExecuteAsync("CREATE TABLE IF NOT EXISTS kv (k int PRIMARY KEY, v text)", cancellationToken: Ct);
        var upsert = await session.PrepareAsync("INSERT INTO kv (k, v) VALUES (?, ?)", Ct);
        return (server, session, upsert);
    }

    [Theory]
    [InlineData(CqlFaultKind.WriteTimeout)]
    [InlineData(CqlFaultKind.Unavailable)]
    public async Task Idempotent_write_is_retried_until_it_succeeds(CqlFaultKind kind)
    {
        var (server, session, upsert) = await StartAsync();
        await using (server)
        await using (session)
        {
            server.Faults.FailNext(2, kind);
            await session.ExecuteAsync(upsert, [1, "one"], new CqlQueryOptions { IsIdempotent = true }, Ct);
            Assert.Equal(0, server.Faults.Remaining);
            Assert.Equal("one", (await session.ExecuteAsync("SELECT v FROM kv WHERE k = 1", cancellationToken: Ct)).Rows.Single().GetString(0));
        }
    }

    [Fact]
    public async Task A_fault_on_the_implicit_USE_is_retried_like_the_request_itself()
    {
        await using var server = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 }, cancellationToken: Ct);
        await using (var setup = await CqlSession.ConnectAsync(server.ConnectionString(), cancellationToken: Ct))
        {
            await setup.ExecuteAsync("CREATE KEYSPACE IF NOT EXISTS use_ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", cancellationToken: Ct);
            await setup.ExecuteAsync("CREATE TABLE IF NOT EXISTS use_ks.kv (k int PRIMARY KEY, v text)", cancellationToken: Ct);
        }
        var options = CqlSessionOptions.Parse(server.ConnectionString("use_ks"));
        options.RetryBaseDelay = TimeSpan.FromMilliseconds(5);
        await using var session = await CqlSession.ConnectAsync(options, cancellationToken: Ct);

        // The session's first request makes its connection issue USE use_ks first: that USE meets the fault.
        server.Faults.FailNext(1, CqlFaultKind.WriteTimeout);
        await session.ExecuteAsync("INSERT INTO kv (k, v) VALUES (1, 'one')", options: new CqlQueryOptions { IsIdempotent = true }, cancellationToken: Ct);

        Assert.Equal(0, server.Faults.Remaining);
        Assert.Equal("one", (await session.ExecuteAsync("SELECT v FROM kv WHERE k = 1", cancellationToken: Ct)).Rows.Single().GetString(0));
    }

    [Fact]
    public async Task Non_idempotent_write_is_not_retried_and_surfaces_the_typed_error()
    {
        var (server, session, upsert) = await StartAsync();
        await using (server)
        await using (session)
        {
            server.Faults.FailNext(2, CqlFaultKind.WriteTimeout);
            var ex = await Assert.ThrowsAsync<CqlWriteTimeoutException>(() =>
                session.ExecuteAsync(upsert, [1, "one"], new CqlQueryOptions { Consistency = CqlConsistency.Quorum }, Ct));
            Assert.Equal(CqlErrorCode.WriteTimeout, ex.Code);
            Assert.Equal(CqlConsistency.Quorum, ex.Consistency);
            Assert.Equal("SIMPLE", ex.WriteType);
            Assert.Contains("timed out", ex.ServerMessage);
            Assert.Equal(1, server.Faults.Remaining); // exactly one attempt was made

            // Batches report the unlogged write type.
            var batch = new CqlBatch().Add(upsert, 2, "two");
            var batchError = await Assert.ThrowsAsync<CqlWriteTimeoutException>(() => session.ExecuteBatchAsync(batch, cancellationToken: Ct));
            Assert.Equal("UNLOGGED_BATCH", batchError.WriteType);
        }
    }

    [Fact]
    public async Task Reads_are_idempotent_by_default_and_retries_are_bounded()
    {
        var (server, session, upsert) = await StartAsync(o => o.MaxRetries = 3);
        await using (server)
        await using (session)
        {
            await session.ExecuteAsync(upsert, [5, "five"], cancellationToken: Ct);
            server.Faults.FailNext(3, CqlFaultKind.ReadTimeout);
            Assert.Equal("five", (await session.ExecuteAsync("SELECT v FROM kv WHERE k = 5", cancellationToken: Ct)).Rows.Single().GetString(0));

            server.Faults.FailNext(10, CqlFaultKind.Unavailable);
            var ex = await Assert.ThrowsAsync<CqlUnavailableException>(() => session.ExecuteAsync("SELECT v FROM kv WHERE k = 5", cancellationToken: Ct));
            Assert.Equal((2, 1), (ex.Required, ex.Alive));
            Assert.Equal(10 - 4, server.Faults.Remaining); // first try + 3 retries
            server.Faults.Reset();
        }
    }

    [Fact]
    public async Task Slow_responses_time_out_on_the_client()
    {
        var (server, session, upsert) = await StartAsync();
        await using (server)
        await using (session)
        {
            server.Faults.Latency = TimeSpan.FromMilliseconds(400);
            var ex = await Assert.ThrowsAsync<CqlRequestTimeoutException>(() =>
                session.ExecuteAsync(upsert, [1, "x"], new CqlQueryOptions { Timeout = TimeSpan.FromMilliseconds(50) }, Ct));
            Assert.Contains("50 ms", ex.Message);
            // The late response frees its stream id; the connection stays usable.
            server.Faults.Latency = TimeSpan.Zero;
            // The server applies the timed-out write only after its 400 ms latency: wait (bounded) until it has,
            // rather than a fixed pause that a slow machine can outlast.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await session.ExecuteAsync("SELECT v FROM kv WHERE k = 1", cancellationToken: Ct)).Rows.Count == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the timed-out write never reached the server within 30 s");
                await Task.Delay(50, Ct);
            }
            await session.ExecuteAsync(upsert, [2, "y"], cancellationToken: Ct);
            Assert.Equal(2, (await session.ExecuteAsync("SELECT COUNT(*) FROM kv", cancellationToken: Ct)).Rows.Single().GetInt64(0));
        }
    }

    [Fact]
    public async Task Client_reconnects_and_reprepares_after_the_server_restarts()
    {
        var dataFile = Path.Combine(Path.GetTempPath(), $"cql-dev-{Guid.NewGuid():N}.db");
        try
        {
            var server = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0, DataFile = dataFile }, cancellationToken: Ct);
            var port = server.Port;
            var options = CqlSessionOptions.Parse(server.ConnectionString());
            options.ReconnectBaseDelay = TimeSpan.FromMilliseconds(20);
            options.ReconnectMaxDelay = TimeSpan.FromMilliseconds(200);
            await using var session = await CqlSession.ConnectAsync(options, cancellationToken: Ct);
            await session.ExecuteAsync("CREATE KEYSPACE r WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", cancellationToken: Ct);
            await session.ExecuteAsync("CREATE TABLE r.kv (k int PRIMARY KEY, v text)", cancellationToken: Ct);
            var upsert = await session.PrepareAsync("INSERT INTO r.kv (k, v) VALUES (?, ?)", Ct);
            var select = await session.PrepareAsync("SELECT v FROM r.kv WHERE k = ?", Ct);
            await session.ExecuteAsync(upsert, [1, "before restart"], cancellationToken: Ct);

            await server.DisposeAsync();
            // While the server is down requests fail fast with a connection error.
            await Assert.ThrowsAnyAsync<CqlException>(() => session.ExecuteAsync(select, [1], cancellationToken: Ct));

            await using var restarted = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = port, DataFile = dataFile }, cancellationToken: Ct);
            CqlResult? result = null;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (result is null)
            {
                try
                {
                    result = await session.ExecuteAsync(select, [1], cancellationToken: Ct);
                }
                catch (CqlException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50, Ct);
                }
            }
            // Data came back from the file; the prepared statement was re-prepared after UNPREPARED.
            Assert.Equal("before restart", result.Rows.Single().GetString(0));
            await session.ExecuteAsync(upsert, [2, "after restart"], cancellationToken: Ct);
            Assert.Equal("after restart", (await session.ExecuteAsync(select, [2], cancellationToken: Ct)).Rows.Single().GetString(0));
        }
        finally
        {
            File.Delete(dataFile);
        }
    }

    [Fact]
    public async Task Protocol_version_is_negotiated_down_to_v3_and_fails_clearly_below()
    {
        await using (var v3Server = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0, MaxProtocolVersion = 3 }, cancellationToken: Ct))
        await using (var session = await CqlSession.ConnectAsync(v3Server.ConnectionString(), cancellationToken: Ct))
        {
            Assert.Equal(3, session.ProtocolVersion);
            await session.ExecuteAsync("CREATE KEYSPACE k3 WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", cancellationToken: Ct);
            await session.ExecuteAsync("CREATE TABLE k3.t (id int PRIMARY KEY, v text)", cancellationToken: Ct);
            var insert = await session.PrepareAsync("INSERT INTO k3.t (id, v) VALUES (?, ?)", Ct);
            await session.ExecuteAsync(insert, [1, "v3"], cancellationToken: Ct);
            Assert.Equal("v3", (await session.ExecuteAsync("SELECT v FROM k3.t WHERE id = 1", cancellationToken: Ct)).Rows.Single().GetString(0));
        }

        await using var oldServer = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0, MaxProtocolVersion = 2 }, cancellationToken: Ct);
        var ex = await Assert.ThrowsAsync<CqlProtocolVersionException>(() => CqlSession.ConnectAsync(oldServer.ConnectionString(), cancellationToken: Ct));
        Assert.Contains("refused CQL native protocol versions 4 down to 3", ex.Message);
    }

    [Fact]
    public async Task Unreachable_hosts_fail_with_no_host_available()
    {
        var options = CqlSessionOptions.Parse("Contact Points=127.0.0.1:1");
        var ex = await Assert.ThrowsAsync<CqlNoHostAvailableException>(() => CqlSession.ConnectAsync(options, cancellationToken: Ct));
        Assert.Contains("127.0.0.1:1", ex.Message);
    }
}
