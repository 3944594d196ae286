using System.Net;
using System.Text.Json;
using CustomerData.Pipelines.Summary;

namespace CustomerData.Api.Tests;

/// <summary>Every parameter fuzzed: always the error envelope with a 4xx, never a 5xx, a stack trace or SQL in the body.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        await _host.Lake.WriteSummaryDayAsync(new DateOnly(2025, 12, 10), [new DailySummary(7, 10m, 1, 1, "Toys", 1)]);
        await _host.WaitForLakeListingAsync(s => s.SummaryDays.Count == 1);
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    private static readonly string[] s_badIds =
    [
        "abc", "-1", "0", "00", "2147483648", "99999999999999999999", "+5", "%205", "5%20", "1e3", "0x10", "5.0",
        "１２３", "١٢٣", "٣", "é", "%F0%9F%98%80", "1%3BDROP%20TABLE%20x", "1'%20OR%20'1'='1", "..%2F..%2Fetc%2Fpasswd",
        "read_csv('%2Fetc%2Fpasswd')", new string('9', 8 * 1024), "%01", "1%0A2",
    ];

    private static readonly string[] s_badDates =
    [
        "2025-02-30", "2025-13-01", "2025-1-01", "2025-01-1", "25-01-01", "2025%2F01%2F01", "20250101", "2025-00-10", "2025-12-32",
        "２０２５-１２-１０", "٢٠٢٥-١٢-١٠", "2025-12-10T00:00:00", "2025-12-10%20", "'%3B--", "..%2F..", new string('1', 8 * 1024), "0000-01-01",
    ];

    private static readonly string[] s_badLimits = ["0", "-1", "10001", "1e3", "1.5", "abc", "", "１０", "٥", "99999999999", "%2B5", "5%20"];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var id in s_badIds)
        {
            data.Add($"/customer/{id}", "invalid_customer_id");
            data.Add($"/summary/2025-12-10/{id}", "invalid_customer_id");
            data.Add($"/events/{id}", "invalid_customer_id");
        }
        foreach (var date in s_badDates)
        {
            data.Add($"/summary/{date}", "invalid_date_format");
            data.Add($"/summary/{date}/7", "invalid_date_format");
            data.Add($"/events/7?fromDate={date}", "invalid_fromDate_format");
            data.Add($"/events/7?toDate={date}", "invalid_toDate_format");
        }
        foreach (var limit in s_badLimits) data.Add($"/events/7?limit={limit}", "invalid_limit");
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_bad_parameter_gets_its_error_envelope_with_400(string path, string message)
    {
        var response = await _host.Client.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("{\"status\":\"error\",\"message\":\"" + message + "\",\"data\":{}}", body);
    }

    [Theory]
    [InlineData("/customer")]
    [InlineData("/customer/")]
    [InlineData("/customer/5/extra")]
    [InlineData("/summary")]
    [InlineData("/summary/2025-12-10/7/8")]
    [InlineData("/events")]
    [InlineData("/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/%E2%80%AE")]
    public async Task An_unknown_path_gets_not_found_in_the_envelope(string path)
    {
        var response = await _host.Client.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("""{"status":"error","message":"not-found","data":{}}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Random_garbage_in_every_parameter_never_gets_a_5xx_or_a_body_other_than_the_envelope()
    {
        var ct = TestContext.Current.CancellationToken;
        var random = new Random(42);
        const string alphabet = "0123456789-+.eE /\\'\";%()*ÿé١２\t";
        string Garbage() => new(Enumerable.Range(0, random.Next(0, 14)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
        for (var i = 0; i < 400; i++)
        {
            var path = (i % 4) switch
            {
                0 => $"/customer/{Uri.EscapeDataString(Garbage())}",
                1 => $"/summary/{Uri.EscapeDataString(Garbage())}",
                2 => $"/summary/2025-12-10/{Uri.EscapeDataString(Garbage())}",
                _ => $"/events/{Uri.EscapeDataString(Garbage())}?fromDate={Uri.EscapeDataString(Garbage())}&toDate={Uri.EscapeDataString(Garbage())}&limit={Uri.EscapeDataString(Garbage())}",
            };
            var response = await _host.Client.GetAsync(path, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            Assert.True((int)response.StatusCode is >= 200 and < 500, $"{path} answered {(int)response.StatusCode}: {body}");
            using var json = JsonDocument.Parse(body);
            Assert.Contains(json.RootElement.GetProperty("status").GetString(), new[] { "success", "error" });
            Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
            Assert.DoesNotContain("SELECT", body, StringComparison.OrdinalIgnoreCase);
        }
    }
}
