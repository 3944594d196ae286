using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CustomerData.Api.Tests;

/// <summary>
/// Tokens as an identity provider (or <c>dotnet user-jwts</c>) would issue them, signed with a key the test host is
/// configured with through the standard JwtBearer settings (<c>Authentication:Schemes:Bearer</c>).
/// </summary>
public static class TestTokens
{
    public const string Issuer = "api-tests";
    public const string Audience = "customer-data-api";
    private static readonly byte[] s_key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Authentication:Schemes:Bearer:ValidIssuer"] = Issuer,
        ["Authentication:Schemes:Bearer:ValidAudiences:0"] = Audience,
        ["Authentication:Schemes:Bearer:SigningKeys:0:Issuer"] = Issuer,
        ["Authentication:Schemes:Bearer:SigningKeys:0:Value"] = Convert.ToBase64String(s_key),
    };

    public static string Create(string subject, params string[] scopes) => Create(subject, scopes, s_key, DateTime.UtcNow.AddMinutes(30));

    public static string Create(string subject, IReadOnlyList<string> scopes, byte[] key, DateTime expires)
    {
        var claims = new List<Claim> { new("sub", subject) };
        claims.AddRange(scopes.Select(s => new Claim("scope", s)));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity(claims),
            NotBefore = DateTime.UtcNow.AddMinutes(-1),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>A well-formed token signed with a key the host does not know.</summary>
    public static string WithUnknownKey(params string[] scopes) =>
        Create("intruder", scopes, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), DateTime.UtcNow.AddMinutes(30));

    public static string Expired(params string[] scopes) => Create("late", scopes, s_key, DateTime.UtcNow.AddMinutes(-10));
}
