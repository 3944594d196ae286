using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CustomerData.Tests.Shared;

/// <summary>
/// Tokens for the workers' admin endpoints, signed with a key the worker under test gets through the standard JwtBearer
/// settings (<c>Authentication:Schemes:Bearer</c>), as the AppHost hands its generated key to the workers.
/// </summary>
public static class OpsTestTokens
{
    public const string Issuer = "ops-tests";
    public const string Audience = "customer-data-ops";
    public const string OpsWrite = "ops:write";
    private static readonly byte[] s_key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(48);

    /// <summary>The settings as configuration keys (an in-process host).</summary>
    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Authentication:Schemes:Bearer:ValidIssuer"] = Issuer,
        ["Authentication:Schemes:Bearer:ValidAudiences:0"] = Audience,
        ["Authentication:Schemes:Bearer:SigningKeys:0:Issuer"] = Issuer,
        ["Authentication:Schemes:Bearer:SigningKeys:0:Value"] = Convert.ToBase64String(s_key),
    };

    /// <summary>The same as environment variables (a worker process).</summary>
    public static IEnumerable<KeyValuePair<string, string>> Environment =>
        Settings.Select(kv => new KeyValuePair<string, string>(kv.Key.Replace(":", "__", StringComparison.Ordinal), kv.Value!));

    public static string Create(params string[] scopes)
    {
        var claims = new List<Claim> { new("sub", "ops-tests-operator") };
        claims.AddRange(scopes.Select(s => new Claim("scope", s)));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity(claims),
            NotBefore = DateTime.UtcNow.AddMinutes(-1),
            Expires = DateTime.UtcNow.AddMinutes(30),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(s_key), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>A client of <paramref name="baseAddress"/> with an <c>ops:write</c> token.</summary>
    public static HttpClient Operator(Uri baseAddress)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", Create(OpsWrite));
        return client;
    }

    /// <summary>The admin envelope of an answer: (message, data).</summary>
    public static async Task<(string Message, JsonElement Data)> EnvelopeAsync(HttpResponseMessage response)
    {
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("message").GetString()!, json.GetProperty("data"));
    }

    /// <summary>Polls <c>GET /admin/{path}</c> until the operation is no longer running; returns its status.</summary>
    public static async Task<JsonElement> WaitForOperationAsync(HttpClient client, string path, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (true)
        {
            var (_, data) = await EnvelopeAsync(await client.GetAsync("/admin/" + path));
            if (data.GetProperty("state").GetString() != "running") return data;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"/admin/{path} still running after {bound}: {data}");
            await Task.Delay(100);
        }
    }
}
