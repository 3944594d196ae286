using CustomerData.Cql.DevServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CustomerData.Cql.Tests;

/// <summary>Stream-id multiplexing with a bound on in-flight requests, multi-host failover, and the hosted dev server's configuration keys.</summary>
public sealed class PoolTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Requests_beyond_the_in_flight_bound_wait_instead_of_failing()
    {
        await using var server = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 }, cancellationToken: Ct);
        var options = CqlSessionOptions.Parse(server.ConnectionString());
        options.ConnectionsPerHost = 1;
        options.MaxRequestsPerConnection = 4;
        await using var session = await CqlSession.ConnectAsync(options, cancellationToken: Ct);
        await session.ExecuteAsync("CREATE KEYSPACE p WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", cancellationToken: Ct);
        await session.ExecuteAsync("CREATE TABLE p.kv (k int PRIMARY KEY, v int)", cancellationToken: Ct);
        var insert = await session.PrepareAsync("INSERT INTO p.kv (k, v) VALUES (?, ?)", Ct);

        server.Faults.Latency = TimeSpan.FromMilliseconds(20);
        // 200 concurrent requests through 4 stream ids: each completes, in about 200/4 × 20 ms.
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => session.ExecuteAsync(insert, [i, i * 2], cancellationToken: Ct)));
        server.Faults.Latency = TimeSpan.Zero;
        var total = 0L;
        await foreach (var row in session.QueryAsync("SELECT v FROM p.kv", cancellationToken: Ct)) total += row.GetInt32(0);
        Assert.Equal(Enumerable.Range(0, 200).Sum(i => i * 2L), total);
    }

    [Fact]
    public async Task Idle_connections_send_heartbeats_and_stay_usable()
    {
        await using var server = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 }, cancellationToken: Ct);
        var options = CqlSessionOptions.Parse(server.ConnectionString());
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
        await using var session = await CqlSession.ConnectAsync(options, cancellationToken: Ct);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (server.OptionsRequests < 2 && DateTime.UtcNow < deadline) await Task.Delay(50, Ct);
        Assert.True(server.OptionsRequests >= 2, $"expected heartbeats, saw {server.OptionsRequests} OPTIONS");
        Assert.Equal("local", (await session.ExecuteAsync("SELECT key FROM system.local", cancellationToken: Ct)).Rows.Single().GetString(0));
    }

    [Fact]
    public async Task Idempotent_requests_fail_over_to_another_contact_point()
    {
        await using var first = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 }, cancellationToken: Ct);
        var second = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 }, cancellationToken: Ct);
        var options = CqlSessionOptions.Parse($"Contact Points={first.Host}:{first.Port},{second.Host}:{second.Port}");
        options.RetryBaseDelay = TimeSpan.FromMilliseconds(1);
        await using var session = await CqlSession.ConnectAsync(options, cancellationToken: Ct);
        // Both hosts get used in turn (round robin); each answers system.local.
        for (var i = 0; i < 10; i++) await session.ExecuteAsync("SELECT key FROM system.local", cancellationToken: Ct);

        await second.DisposeAsync();
        for (var i = 0; i < 20; i++)
        {
            var row = (await session.ExecuteAsync("SELECT key FROM system.local", cancellationToken: Ct)).Rows.Single();
            Assert.Equal("local", row.GetString(0));
        }
    }

    [Fact]
    public async Task Hosted_dev_server_reads_its_configuration_keys()
    {
        var dataFile = Path.Combine(Path.GetTempPath(), $"cql-hosted-{Guid.NewGuid():N}.db");
        try
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["DevServer:Port"] = "0",
                ["DevServer:DataFile"] = dataFile,
                ["DevServer:Username"] = "app",
                ["DevServer:Password"] = "pw",
            });
            builder.Services.AddOptions<CqlDevServerOptions>().BindConfiguration("DevServer");
            builder.Services.AddSingleton<CqlDevServerHost>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<CqlDevServerHost>());
            using (var host = builder.Build())
            {
                await host.StartAsync(Ct);
                var server = host.Services.GetRequiredService<CqlDevServerHost>().Server!;
                await using (var session = await CqlSession.ConnectAsync($"Contact Points=127.0.0.1:{server.Port};Username=app;Password=pw", cancellationToken: Ct))
                {
                    await session.ExecuteAsync("CREATE KEYSPACE h WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", cancellationToken: Ct);
                    await session.ExecuteAsync("CREATE TABLE h.t (id int PRIMARY KEY)", cancellationToken: Ct);
                    await session.ExecuteAsync("INSERT INTO h.t (id) VALUES (42)", cancellationToken: Ct);
                }
                await Assert.ThrowsAsync<CqlAuthenticationException>(() => CqlSession.ConnectAsync($"Contact Points=127.0.0.1:{server.Port}", cancellationToken: Ct));
                await host.StopAsync(Ct);
            }
            // Stopping saved the data file; a new server loads it.
            Assert.True(File.Exists(dataFile));
            Assert.False(File.Exists(dataFile + ".tmp"));
            await using var reloaded = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0, DataFile = dataFile }, cancellationToken: Ct);
            await using var check = await CqlSession.ConnectAsync(reloaded.ConnectionString(), cancellationToken: Ct);
            Assert.Equal(42, (await check.ExecuteAsync("SELECT id FROM h.t", cancellationToken: Ct)).Rows.Single().GetInt32(0));
        }
        finally
        {
            File.Delete(dataFile);
        }
    }
}

/// <summary>TLS between our client and the dev server (self-signed certificate made for the test).</summary>
public sealed class TlsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Client_speaks_cql_over_tls_and_rejects_an_untrusted_certificate()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            "CN=localhost", rsa, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(
            ephemeral.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx), null);
        await using var server = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0, Certificate = certificate }, cancellationToken: Ct);

        var options = CqlSessionOptions.Parse(server.ConnectionString() + ";Ssl=true");
        options.SslAllowInvalidCertificate = true;
        await using (var session = await CqlSession.ConnectAsync(options, cancellationToken: Ct))
        {
            Assert.Equal("local", (await session.ExecuteAsync("SELECT key FROM system.local", cancellationToken: Ct)).Rows.Single().GetString(0));
        }

        // Default validation uses the OS trust store: a self-signed certificate is refused.
        var strict = CqlSessionOptions.Parse(server.ConnectionString() + ";Ssl=true");
        var ex = await Assert.ThrowsAsync<CqlNoHostAvailableException>(() => CqlSession.ConnectAsync(strict, cancellationToken: Ct));
        Assert.IsType<CqlConnectionException>(ex.InnerException);
    }
}
