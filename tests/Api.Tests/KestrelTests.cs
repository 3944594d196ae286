using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CustomerData.Api.Tests;

/// <summary>What only the real server sees: request lines longer than Kestrel's default limit, NUL bytes in the path.</summary>
public sealed class KestrelTests
{
    [Fact]
    public async Task An_8_kb_path_and_a_nul_byte_get_the_error_envelope_from_kestrel_too()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await ApiHost.StartAsync(kestrel: true);
        var longId = await host.Client.GetAsync("/customer/" + new string('9', 8 * 1024), ct);
        Assert.Equal(HttpStatusCode.BadRequest, longId.StatusCode);
        Assert.Equal("""{"status":"error","message":"invalid_customer_id","data":{}}""", await longId.Content.ReadAsStringAsync(ct));
        var longDate = await host.Client.GetAsync("/events/5?fromDate=" + new string('2', 8 * 1024), ct);
        Assert.Equal("""{"status":"error","message":"invalid_fromDate_format","data":{}}""", await longDate.Content.ReadAsStringAsync(ct));

        // HttpClient refuses to send a NUL; a raw request does.
        var address = host.Client.BaseAddress!;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port, ct);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /customer/%00 HTTP/1.1\r\nHost: {address.Authority}\r\nConnection: close\r\n\r\n"), ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync(ct);
        Assert.StartsWith("HTTP/1.1 4", response, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", response, StringComparison.Ordinal);
    }
}
