namespace CustomerData.Api.Security;

/// <summary>The scopes of SPEC §10 and the authorization policies that demand them.</summary>
public static class ApiScopes
{
    /// <summary>Personal data: <c>/customer</c>.</summary>
    public const string CustomersRead = "customers:read";

    /// <summary><c>/summary</c> and <c>/events</c>.</summary>
    public const string AnalyticsRead = "analytics:read";

    /// <summary>Operator commands (the workers' admin endpoints).</summary>
    public const string OpsWrite = CustomerData.Operations.TokenScopes.OpsWrite;

    /// <summary>Whether the token grants <paramref name="scope"/> (the rule the workers' admin endpoints share).</summary>
    public static bool Grants(System.Security.Claims.ClaimsPrincipal user, string scope) => CustomerData.Operations.TokenScopes.Grants(user, scope);
}
