using System.Net;
using System.Net.Http.Headers;
using CustomerData.Api.Security;
using CustomerData.Pipelines.Summary;

namespace CustomerData.Api.Tests;

/// <summary>Authentication, scopes, rate limits and headers (issue #15), each answer in the envelope.</summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        await _host.InsertProfileAsync(7, "Customer_7", "customer_7@example.com", "F", 10m, 1, 10m, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "Toys");
        await _host.Lake.WriteSummaryDayAsync(new DateOnly(2025, 12, 10), [new DailySummary(7, 10m, 1, 1, "Toys", 1)]);
        await _host.WaitForLakeListingAsync(s => s.SummaryDays.Count == 1);
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string> DataRoutes() => new("/customer/7", "/summary/2025-12-10", "/summary/2025-12-10/7", "/events/7");

    [Theory]
    [MemberData(nameof(DataRoutes))]
    public async Task Without_a_valid_token_every_data_route_answers_401_in_the_envelope(string path)
    {
        var ct = TestContext.Current.CancellationToken;
        using var anonymous = _host.CreateAnonymousClient();
        foreach (var token in new string?[] { null, "not-a-jwt", TestTokens.WithUnknownKey(ApiScopes.CustomersRead, ApiScopes.AnalyticsRead), TestTokens.Expired(ApiScopes.CustomersRead, ApiScopes.AnalyticsRead) })
        {
            anonymous.DefaultRequestHeaders.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
            var response = await anonymous.GetAsync(path, ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("""{"status":"error","message":"unauthorized","data":{}}""", await response.Content.ReadAsStringAsync(ct));
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
    }

    [Theory]
    [InlineData("/customer/7", ApiScopes.AnalyticsRead)]
    [InlineData("/summary/2025-12-10", ApiScopes.CustomersRead)]
    [InlineData("/summary/2025-12-10/7", ApiScopes.CustomersRead)]
    [InlineData("/events/7", ApiScopes.CustomersRead)]
    [InlineData("/customer/7", ApiScopes.OpsWrite)]
    public async Task A_token_without_the_routes_scope_answers_403_in_the_envelope(string path, string otherScope)
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _host.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Create("scoped", otherScope));
        var response = await client.GetAsync(path, ct);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("""{"status":"error","message":"forbidden","data":{}}""", await response.Content.ReadAsStringAsync(ct));
    }

    [Theory]
    [InlineData("/customer/7", ApiScopes.CustomersRead)]
    [InlineData("/summary/2025-12-10", ApiScopes.AnalyticsRead)]
    [InlineData("/summary/2025-12-10/7", ApiScopes.AnalyticsRead)]
    public async Task A_token_with_the_routes_scope_alone_answers_200(string path, string scope)
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _host.CreateAnonymousClient();
        // Space-separated in one claim, as many identity providers issue it.
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Create("scoped", "openid " + scope));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path, ct)).StatusCode);
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    [InlineData("/openapi/v1.json")]
    public async Task Probes_and_the_api_description_stay_open(string path)
    {
        using var anonymous = _host.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(path, TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Answers_carry_the_security_headers_and_cors_is_closed()
    {
        var ct = TestContext.Current.CancellationToken;
        var response = await _host.Client.GetAsync("/summary/2025-12-10/7", ct);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/summary/2025-12-10/7");
        preflight.Headers.Add("Origin", "https://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        var answer = await _host.Client.SendAsync(preflight, ct);
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Past_its_rate_a_client_gets_429_with_retry_after_while_another_client_is_served()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Api:RateLimit:PermitsPerSecond"] = "1", ["Api:RateLimit:Burst"] = "3" });
        using var busy = host.CreateAnonymousClient();
        busy.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Create("busy", ApiScopes.AnalyticsRead));
        using var other = host.CreateAnonymousClient();
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Create("other", ApiScopes.AnalyticsRead));
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 10; i++)
        {
            var response = await busy.GetAsync("/events/7", ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited ??= response;
        }
        Assert.NotNull(limited);
        Assert.True(statuses.Count(s => s != HttpStatusCode.TooManyRequests) is >= 3 and <= 5, string.Join(",", statuses));
        Assert.Equal("""{"status":"error","message":"rate_limited","data":{}}""", await limited.Content.ReadAsStringAsync(ct));
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, (await other.GetAsync("/events/7", ct)).StatusCode);
    }

    [Fact]
    public async Task Turning_authentication_off_opens_the_routes_outside_production_and_is_refused_in_production()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var open = await ApiHost.StartAsync(new Dictionary<string, string?> { [ApiSecurity.DisabledKey] = "true" }))
        {
            using var anonymous = open.CreateAnonymousClient();
            var response = await anonymous.GetAsync("/customer/7", ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); // past authorization: the profile is simply not there
            Assert.Contains(open.Logs.Lines, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Critical && l.Message.Contains(ApiSecurity.DisabledKey, StringComparison.Ordinal));
        }
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var production = await ApiHost.StartAsync(new Dictionary<string, string?> { [ApiSecurity.DisabledKey] = "true", ["environment"] = "Production" });
        });
        Assert.Contains("refused in Production", refused.ToString(), StringComparison.Ordinal);
    }
}
