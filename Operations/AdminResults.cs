using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace CustomerData.Operations;

/// <summary>The envelope of the admin answers, the Api's shape (SPEC §7): <c>{"status", "message", "data"}</c>.</summary>
public sealed record AdminEnvelope(
    [property: JsonPropertyOrder(0)] string Status,
    [property: JsonPropertyOrder(1)] string Message,
    [property: JsonPropertyOrder(2)] object Data);

public static class AdminResults
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static IResult Success(string message, object data, int statusCode = StatusCodes.Status200OK) =>
        Results.Json(new AdminEnvelope("success", message, data), Json, statusCode: statusCode);

    public static IResult Error(int statusCode, string message, object? data = null) =>
        Results.Json(new AdminEnvelope("error", message, data ?? new { }), Json, statusCode: statusCode);

    /// <summary>401/403 of the bearer handler in the same envelope.</summary>
    public static Task WriteErrorAsync(HttpContext context, int statusCode, string message)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, new AdminEnvelope("error", message, new { }), Json, context.RequestAborted);
    }
}
