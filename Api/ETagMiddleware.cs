using System.Buffers;
using System.Security.Cryptography;
using Microsoft.IO;
using Microsoft.Net.Http.Headers;

namespace CustomerData.Api;

/// <summary>
/// A strong <c>ETag</c> on every successful GET, the hash of the body: it changes exactly when the answer does
/// (a rewritten summary day, a compacted events day, a new event), so it can never go stale. A matching
/// <c>If-None-Match</c> gets 304 without the body.
/// </summary>
public sealed class ETagMiddleware(RequestDelegate next)
{
    private static readonly RecyclableMemoryStreamManager s_buffers = new();

    public async Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            await next(context);
            return;
        }
        var original = context.Response.Body;
        await using var buffer = s_buffers.GetStream(nameof(ETagMiddleware));
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }
        if (context.Response.StatusCode == StatusCodes.Status200OK)
        {
            // An answer serialized once (SerializedJson) brings its ETag: the same hash, not recomputed per request.
            var etag = context.Response.Headers.ETag is { Count: 1 } known ? known.ToString() : ETagOf(buffer.GetReadOnlySequence());
            context.Response.Headers.ETag = etag;
            if (Matches(context.Request.Headers.IfNoneMatch, etag))
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                context.Response.ContentLength = null;
                return;
            }
        }
        if (buffer.Length == 0) return; // nothing written: an outer middleware may still write the error envelope
        context.Response.ContentLength = buffer.Length;
        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    /// <summary>The strong ETag of a body: the first 16 bytes of its SHA-256, quoted.</summary>
    public static string ETagOf(ReadOnlySequence<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var segment in body) hash.AppendData(segment.Span);
        return "\"" + Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 16)) + "\"";
    }

    private static bool Matches(Microsoft.Extensions.Primitives.StringValues ifNoneMatch, string etag)
    {
        if (ifNoneMatch.Count == 0) return false;
        if (!EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)) return false;
        foreach (var tag in tags)
        {
            // Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
            if (tag.Equals(EntityTagHeaderValue.Any) || tag.Tag == etag) return true;
        }
        return false;
    }
}
