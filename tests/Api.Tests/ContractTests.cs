using System.Net;
using System.Text.Json;
using CustomerData.Pipelines.Events;
using CustomerData.Pipelines.Summary;

namespace CustomerData.Api.Tests;

/// <summary>The four endpoints answer exactly the bytes of SPEC §7 for the spec's own examples.</summary>
public sealed class ContractTests : IAsyncLifetime
{
    private static readonly DateOnly Day = new(2025, 12, 10);
    private ApiHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        await _host.InsertProfileAsync(456, "Customer_456", "customer_456@example.com", "M", 143949.50m, 6, 23991.58m,
            new DateTimeOffset(2022, 3, 7, 6, 30, 0, TimeSpan.Zero), new DateTimeOffset(2024, 5, 18, 18, 17, 40, TimeSpan.Zero), "Grocery");
        await _host.Lake.WriteSummaryDayAsync(Day,
        [
            new DailySummary(3156, 12895.28m, 2, 1, "Electronics", 1),
            new DailySummary(1088, 57714.90m, 6, 1, "Sports", 3),
        ]);
        var eventDay = new DateOnly(2025, 12, 9);
        await _host.Lake.WriteBatchAsync(eventDay,
        [
            new LakeEvent("dd4b27a2-6f0e-4b51-9d3c-2a7f1e0c9b44", 2942, "CART_ADD", 491,
                new DateTime(2025, 12, 9, 18, 18, 50, DateTimeKind.Utc).AddTicks(8503950), new DateTime(2025, 12, 9, 18, 18, 59, 149, DateTimeKind.Utc)),
        ], firstOffset: 0);
        await _host.WaitForLakeListingAsync(s => s.SummaryDays.ContainsKey(Day) && s.EventDays.ContainsKey(eventDay));
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Customer_answers_the_profile_exactly_as_the_contract_shows_it()
    {
        var response = await _host.Client.GetAsync("/customer/456", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(
            """{"status":"success","message":"Customer profile retrieved successfully","data":{"customer_id":456,"name":"Customer_456","email":"customer_456@example.com","gender":"M","total_spend":143949.5,"total_transactions":6,"avg_order_value":23991.58,"first_purchase":"2022-03-07T06:30:00Z","last_purchase":"2024-05-18T18:17:40Z","favorite_category":"Grocery"}}""",
            await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Summary_of_a_day_answers_every_customer_by_id_exactly_as_the_contract_shows_it()
    {
        var body = await _host.Client.GetStringAsync("/summary/2025-12-10", TestContext.Current.CancellationToken);
        Assert.Equal(
            """{"status":"success","message":"Daily transaction summaries retrieved successfully","data":{"summaries":[{"date":"2025-12-10","customer_id":1088,"total_amount":57714.9,"total_items":6,"distinct_products":1,"top_category":"Sports"},{"date":"2025-12-10","customer_id":3156,"total_amount":12895.28,"total_items":2,"distinct_products":1,"top_category":"Electronics"}]}}""",
            body);
    }

    [Fact]
    public async Task Summary_of_one_customer_answers_exactly_as_the_contract_shows_it()
    {
        var body = await _host.Client.GetStringAsync("/summary/2025-12-10/3156", TestContext.Current.CancellationToken);
        Assert.Equal(
            """{"status":"success","message":"Daily transaction summary retrieved successfully","data":{"summary":{"date":"2025-12-10","customer_id":3156,"total_amount":12895.28,"total_items":2,"distinct_products":1,"top_category":"Electronics"}}}""",
            body);
    }

    [Fact]
    public async Task Summary_series_of_one_customer_answers_each_day_it_bought_oldest_first()
    {
        var body = await _host.Client.GetStringAsync("/summary/customer/3156?fromDate=2025-12-01&toDate=2025-12-11", TestContext.Current.CancellationToken);
        Assert.Equal(
            """{"status":"success","message":"Customer daily summaries retrieved successfully","data":{"summaries":[{"date":"2025-12-10","customer_id":3156,"total_amount":12895.28,"total_items":2,"distinct_products":1,"top_category":"Electronics"}]}}""",
            body);
    }

    [Fact]
    public async Task Events_answer_keeps_microseconds_and_milliseconds_exactly_as_the_contract_shows_them()
    {
        var body = await _host.Client.GetStringAsync("/events/2942", TestContext.Current.CancellationToken);
        Assert.Equal(
            """{"status":"success","message":"Customer events retrieved successfully","data":{"events":[{"date":"2025-12-09","event_id":"dd4b27a2-6f0e-4b51-9d3c-2a7f1e0c9b44","customer_id":2942,"event_type":"CART_ADD","product_id":491,"event_timestamp":"2025-12-09T18:18:50.850395Z","ingestion_timestamp":"2025-12-09T18:18:59.149Z"}]}}""",
            body);
    }

    [Theory]
    [InlineData("/customer/abc", HttpStatusCode.BadRequest, "invalid_customer_id")]
    [InlineData("/customer/0", HttpStatusCode.BadRequest, "invalid_customer_id")]
    [InlineData("/customer/457", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/summary/2025-13-01", HttpStatusCode.BadRequest, "invalid_date_format")]
    [InlineData("/summary/2025-12-11", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/summary/2025-12-13", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/summary/2025-02-30/3156", HttpStatusCode.BadRequest, "invalid_date_format")]
    [InlineData("/summary/2025-12-10/x", HttpStatusCode.BadRequest, "invalid_customer_id")]
    [InlineData("/summary/2025-12-10/3157", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/events/2942?fromDate=2025-12-9", HttpStatusCode.BadRequest, "invalid_fromDate_format")]
    [InlineData("/events/2942?toDate=20251209", HttpStatusCode.BadRequest, "invalid_toDate_format")]
    [InlineData("/events/2942?limit=0", HttpStatusCode.BadRequest, "invalid_limit")]
    [InlineData("/events/2942?limit=10001", HttpStatusCode.BadRequest, "invalid_limit")]
    [InlineData("/events/2942?fromDate=2025-12-10&toDate=2025-12-09", HttpStatusCode.BadRequest, "invalid_date_range")]
    [InlineData("/events/2942?fromDate=2025-12-10", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/events/-5", HttpStatusCode.BadRequest, "invalid_customer_id")]
    [InlineData("/events/2943", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/nothing/here", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/summary/customer/x", HttpStatusCode.BadRequest, "invalid_customer_id")]
    [InlineData("/summary/customer/3156?fromDate=2025-12-1", HttpStatusCode.BadRequest, "invalid_fromDate_format")]
    [InlineData("/summary/customer/3156?toDate=x", HttpStatusCode.BadRequest, "invalid_toDate_format")]
    [InlineData("/summary/customer/3156?fromDate=2025-12-11&toDate=2025-12-10", HttpStatusCode.BadRequest, "invalid_date_range")]
    [InlineData("/summary/customer/3156?fromDate=2025-12-13", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/summary/customer/9999", HttpStatusCode.NotFound, "not-found")]
    public async Task Each_error_answers_its_status_and_message_in_the_envelope(string path, HttpStatusCode status, string message)
    {
        var response = await _host.Client.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("{\"status\":\"error\",\"message\":\"" + message + "\",\"data\":{}}", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_post_is_not_allowed_and_says_so_in_the_envelope()
    {
        var response = await _host.Client.PostAsync("/customer/456", null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("""{"status":"error","message":"method_not_allowed","data":{}}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("/customer/456")]
    [InlineData("/summary/2025-12-10")]
    [InlineData("/summary/2025-12-10/3156")]
    [InlineData("/events/2942?limit=5")]
    public async Task Every_get_has_an_etag_and_if_none_match_answers_304_without_a_body(string path)
    {
        var ct = TestContext.Current.CancellationToken;
        var first = await _host.Client.GetAsync(path, ct);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        using var again = new HttpRequestMessage(HttpMethod.Get, path);
        again.Headers.IfNoneMatch.Add(etag);
        var second = await _host.Client.SendAsync(again, ct);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync(ct));
        using var other = new HttpRequestMessage(HttpMethod.Get, path);
        other.Headers.IfNoneMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue("\"something-else\""));
        Assert.Equal(HttpStatusCode.OK, (await _host.Client.SendAsync(other, ct)).StatusCode);
    }

    [Fact]
    public async Task The_etag_changes_when_pipeline_b_rewrites_the_day()
    {
        // A day of its own: the class's other tests read 2025-12-10 as the contract shows it.
        var ct = TestContext.Current.CancellationToken;
        var day = new DateOnly(2025, 12, 12);
        await _host.Lake.WriteSummaryDayAsync(day, [new DailySummary(1088, 10m, 1, 1, "Sports", 1), new DailySummary(3156, 20m, 1, 1, "Toys", 1)]);
        await _host.WaitForLakeListingAsync(s => s.SummaryDays.ContainsKey(day));
        var before = await _host.Client.GetAsync("/summary/2025-12-12/1088", ct);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        await _host.Lake.WriteSummaryDayAsync(day, [new DailySummary(1088, 60000.10m, 7, 2, "Sports", 4)]);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        HttpResponseMessage after;
        do
        {
            await Task.Delay(50, ct);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/summary/2025-12-12/1088");
            request.Headers.IfNoneMatch.Add(before.Headers.ETag!);
            after = await _host.Client.SendAsync(request, ct);
        }
        while (after.StatusCode == HttpStatusCode.NotModified && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.NotEqual(before.Headers.ETag, after.Headers.ETag);
        using var json = JsonDocument.Parse(await after.Content.ReadAsStringAsync(ct));
        Assert.Equal(60000.1m, json.RootElement.GetProperty("data").GetProperty("summary").GetProperty("total_amount").GetDecimal());
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Client.GetAsync("/summary/2025-12-12/3156", ct)).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_route_with_examples_and_scalar_serves_it_in_development()
    {
        var ct = TestContext.Current.CancellationToken;
        using var doc = JsonDocument.Parse(await _host.Client.GetStringAsync("/openapi/v1.json", ct));
        var paths = doc.RootElement.GetProperty("paths");
        foreach (var path in new[] { "/customer/{customerId}", "/summary/{date}", "/summary/{date}/{customerId}", "/events/{customerId}" })
        {
            var get = paths.GetProperty(path).GetProperty("get");
            foreach (var status in new[] { "200", "400", "404", "500", "503" })
            {
                var example = get.GetProperty("responses").GetProperty(status).GetProperty("content").GetProperty("application/json").GetProperty("example");
                Assert.Equal(status == "200" ? "success" : "error", example.GetProperty("status").GetString());
            }
        }
        var scalar = await _host.Client.GetAsync("/scalar/v1", ct);
        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
    }
}
