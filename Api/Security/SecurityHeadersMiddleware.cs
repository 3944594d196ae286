namespace CustomerData.Api.Security;

/// <summary>
/// Standard headers on every answer: no MIME sniffing, no framing, no referrer, and (except for the Scalar page, which
/// runs scripts) a content security policy that allows nothing: the API serves data, not documents.
/// Data answers may be cached privately and revalidated with their ETag, never stored by shared caches.
/// </summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        if (IsPage(context.Request.Path))
        {
            // The Customer 360 page: its own script, style and API calls, nothing from elsewhere.
            headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
        }
        else if (!context.Request.Path.StartsWithSegments("/scalar"))
        {
            headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
            headers.CacheControl = "private, no-cache";
        }
        return next(context);
    }

    private static bool IsPage(PathString path) =>
        path == "/" || path == "/index.html" || path == "/app.js" || path == "/app.css";
}
