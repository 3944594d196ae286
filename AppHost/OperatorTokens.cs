using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CustomerData.AppHost;

/// <summary>
/// The short-lived HS256 token an operator command sends to a worker's admin endpoint: issuer and audience of the
/// AppHost, scope <c>ops:write</c>, signed with the generated <c>ops-signing-key</c> the workers get as
/// <c>Authentication__Schemes__Bearer__SigningKeys__0__Value</c>. No key in code; the AppHost is the only issuer.
/// </summary>
public static class OperatorTokens
{
    public const string Issuer = "customer-data-apphost";
    public const string Audience = "customer-data-ops";
    public const string Scope = "ops:write";
    public const string Subject = "apphost-operator";

    /// <param name="keyBase64">The signing key as the workers' configuration has it (Base64).</param>
    public static string Create(string keyBase64, TimeSpan lifetime, DateTimeOffset now)
    {
        var header = Encode(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["alg"] = "HS256", ["typ"] = "JWT" }));
        var payload = Encode(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["aud"] = Audience,
            ["sub"] = Subject,
            ["scope"] = Scope,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.AddMinutes(-1).ToUnixTimeSeconds(),
            ["exp"] = now.Add(lifetime).ToUnixTimeSeconds(),
        }));
        var signature = HMACSHA256.HashData(Convert.FromBase64String(keyBase64), Encoding.ASCII.GetBytes(header + "." + payload));
        return header + "." + payload + "." + Encode(signature);
    }

    private static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
