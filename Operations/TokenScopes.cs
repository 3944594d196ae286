using System.Security.Claims;

namespace CustomerData.Operations;

/// <summary>The scope every admin endpoint demands, and how a token's scopes are read.</summary>
public static class TokenScopes
{
    /// <summary>Operator commands (the workers' admin endpoints).</summary>
    public const string OpsWrite = "ops:write";

    /// <summary>Whether the token grants <paramref name="scope"/>: a <c>scope</c> or <c>scp</c> claim, one value or space-separated values.</summary>
    public static bool Grants(ClaimsPrincipal user, string scope) =>
        user.Claims
            .Where(c => c.Type is "scope" or "scp")
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Contains(scope, StringComparer.Ordinal);
}
