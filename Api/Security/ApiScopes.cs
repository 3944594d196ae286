namespace CustomerData.Api.Security;

/// <summary>The scopes of SPEC §10 and the authorization policies that demand them.</summary>
public static class ApiScopes
{
    /// <summary>Personal data: <c>/customer</c>.</summary>
    public const string CustomersRead = "customers:read";

    /// <summary><c>/summary</c> and <c>/events</c>.</summary>
    public const string AnalyticsRead = "analytics:read";

    /// <summary>Operator commands (the workers' admin endpoints).</summary>
    public const string OpsWrite = "ops:write";

    /// <summary>Whether the token grants <paramref name="scope"/>: a <c>scope</c> or <c>scp</c> claim, one value or space-separated values.</summary>
    public static bool Grants(System.Security.Claims.ClaimsPrincipal user, string scope) =>
        user.Claims
            .Where(c => c.Type is "scope" or "scp")
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Contains(scope, StringComparer.Ordinal);
}
