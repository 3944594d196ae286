using System.Security.Cryptography;
using System.Text;

namespace CustomerData.Bench.Api;

/// <summary>
/// A bearer token for an API that authenticates (JwtBearer from <c>Authentication:Schemes:Bearer</c>, scopes
/// <c>customers:read</c> and <c>analytics:read</c>), signed HS256 with a key the API is started with, and the settings
/// that make the API accept it and lift its per-client rate limit (one load generator is one client). An API without
/// authentication ignores both.
/// </summary>
public static class BenchToken
{
    public const string Issuer = "api-bench";
    public const string Audience = "customer-data-api";
    private static readonly byte[] s_key = RandomNumberGenerator.GetBytes(32);

    public static IReadOnlyDictionary<string, string?> ApiEnvironment { get; } = new Dictionary<string, string?>
    {
        ["Authentication__Schemes__Bearer__ValidIssuer"] = Issuer,
        ["Authentication__Schemes__Bearer__ValidAudiences__0"] = Audience,
        ["Authentication__Schemes__Bearer__SigningKeys__0__Issuer"] = Issuer,
        ["Authentication__Schemes__Bearer__SigningKeys__0__Value"] = Convert.ToBase64String(s_key),
        ["Api__RateLimit__PermitsPerSecond"] = "10000000",
        ["Api__RateLimit__Burst"] = "10000000",
    };

    public static string Value { get; } = Create();

    private static string Create()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64Url("""{"alg":"HS256","typ":"JWT"}"""u8);
        var payload = Base64Url(Encoding.UTF8.GetBytes(
            $$"""{"sub":"api-bench","scope":"customers:read analytics:read","iss":"{{Issuer}}","aud":"{{Audience}}","nbf":{{now - 60}},"iat":{{now}},"exp":{{now + 6 * 3600}}}"""));
        var signature = Base64Url(HMACSHA256.HashData(s_key, Encoding.ASCII.GetBytes(header + "." + payload)));
        return header + "." + payload + "." + signature;
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
