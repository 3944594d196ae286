using CustomerData.Api.Contract;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;

namespace CustomerData.Api.Apis;

/// <summary>The error answers of the contract, each with the envelope and its status code (SPEC §9, §10).</summary>
public static class ApiResults
{
    public static BadRequest<ErrorEnvelope> BadRequest(string message) => TypedResults.BadRequest(ErrorEnvelope.For(message));

    public static NotFound<ErrorEnvelope> NotFound() => TypedResults.NotFound(ErrorEnvelope.For(ApiMessages.NotFound));

    /// <summary>Status codes every data route may answer besides its own: 401/403 from authentication, 429 from the rate limiter, 500 and 503 from <see cref="ApiErrorMiddleware"/>, 304 from <see cref="ETagMiddleware"/>.</summary>
    public static RouteGroupBuilder WithCommonErrors(this RouteGroupBuilder group) =>
        group.WithMetadata(
            new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(ErrorEnvelope), ["application/json"]),
            new ProducesResponseTypeMetadata(StatusCodes.Status403Forbidden, typeof(ErrorEnvelope), ["application/json"]),
            new ProducesResponseTypeMetadata(StatusCodes.Status429TooManyRequests, typeof(ErrorEnvelope), ["application/json"]),
            new ProducesResponseTypeMetadata(StatusCodes.Status500InternalServerError, typeof(ErrorEnvelope), ["application/json"]),
            new ProducesResponseTypeMetadata(StatusCodes.Status503ServiceUnavailable, typeof(ErrorEnvelope), ["application/json"]),
            new ProducesResponseTypeMetadata(StatusCodes.Status304NotModified, null, []));
}

/// <summary>
/// A 200 with a JSON body serialized earlier with the API's own options (the bytes <c>Ok</c> would write) and its
/// ETag computed with it, so <see cref="ETagMiddleware"/> does not hash the same bytes again on every request.
/// </summary>
public sealed class SerializedJson(byte[] body) : IResult
{
    private readonly string _etag = ETagMiddleware.ETagOf(new System.Buffers.ReadOnlySequence<byte>(body));

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        httpContext.Response.ContentLength = body.Length;
        httpContext.Response.Headers.ETag = _etag;
        return httpContext.Response.Body.WriteAsync(body, httpContext.RequestAborted).AsTask();
    }
}
