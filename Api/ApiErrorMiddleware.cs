using System.Text.Json;
using CustomerData.Api.Contract;
using CustomerData.Api.Lake;

namespace CustomerData.Api;

/// <summary>
/// Every failure becomes the envelope, never a stack trace or SQL: 503 <c>unavailable</c> for a backing service that
/// is down or a saturated pool, 400 <c>invalid_request</c> for a request Kestrel could not read, 500
/// <c>internal_error</c> otherwise (logged; an unreadable lake file is logged once where it was found), and the
/// status codes the routing answers without a body (404 unknown path, 405) get their envelope too.
/// </summary>
public sealed partial class ApiErrorMiddleware(RequestDelegate next, ILogger<ApiErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // the client left
        }
        catch (Exception ex)
        {
            var (status, message) = ex switch
            {
                ServiceUnavailableException => (StatusCodes.Status503ServiceUnavailable, ApiMessages.Unavailable),
                BadHttpRequestException bad => (bad.StatusCode, ApiMessages.InvalidRequest),
                _ => (StatusCodes.Status500InternalServerError, ApiMessages.InternalError),
            };
            if (ex is ServiceUnavailableException) LogUnavailable(context.Request.Path, ex.Message);
            else if (ex is not LakeFileException && status >= 500) LogFailed(ex, context.Request.Path);
            if (context.Response.HasStarted) throw;
            context.Response.Clear();
            if (status == StatusCodes.Status503ServiceUnavailable) context.Response.Headers.RetryAfter = "1";
            await WriteAsync(context, status, message);
            return;
        }
        if (!context.Response.HasStarted && context.Response.ContentLength is null && context.Response.ContentType is null
            && context.Response.StatusCode is >= 400 and < 600)
        {
            await WriteAsync(context, context.Response.StatusCode, context.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => ApiMessages.NotFound,
                StatusCodes.Status405MethodNotAllowed => ApiMessages.MethodNotAllowed,
                >= 500 => ApiMessages.InternalError,
                _ => ApiMessages.InvalidRequest,
            });
        }
    }

    public static Task WriteAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, ErrorEnvelope.For(message), ApiJsonContext.Default.ErrorEnvelope, context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path} answered 503: {Reason}")]
    private partial void LogUnavailable(PathString path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Path} failed")]
    private partial void LogFailed(Exception exception, PathString path);
}
