using System.Text.Json;
using System.Text.Json.Serialization;

namespace CustomerData.SchemaRegistry.DevServer;

/// <summary>
/// A stand-in for Confluent Schema Registry in local mode (dev and tests only, like the CQL dev server): the REST
/// subset Confluent's client and serializers use. Schemas live in memory; identical schema text gets one id across
/// subjects, as in the real registry. No compatibility checks, no deletes, no references.
/// </summary>
public sealed class SchemaStore
{
    private readonly Lock _lock = new();
    private readonly List<string> _schemas = []; // id - 1 -> schema text
    private readonly Dictionary<string, List<int>> _subjects = new(StringComparer.Ordinal); // subject -> ids by version

    public (int Id, int Version) Register(string subject, string schema)
    {
        lock (_lock)
        {
            var id = _schemas.IndexOf(schema) + 1;
            if (id == 0)
            {
                _schemas.Add(schema);
                id = _schemas.Count;
            }
            if (!_subjects.TryGetValue(subject, out var versions)) _subjects[subject] = versions = [];
            var existing = versions.IndexOf(id);
            if (existing >= 0) return (id, existing + 1);
            versions.Add(id);
            return (id, versions.Count);
        }
    }

    public string? ById(int id)
    {
        lock (_lock) return id >= 1 && id <= _schemas.Count ? _schemas[id - 1] : null;
    }

    /// <summary>The version of <paramref name="subject"/> (-1: latest) as (id, version, schema), or null.</summary>
    public (int Id, int Version, string Schema)? Version(string subject, int version)
    {
        lock (_lock)
        {
            if (!_subjects.TryGetValue(subject, out var versions) || versions.Count == 0) return null;
            var v = version == -1 ? versions.Count : version;
            return v >= 1 && v <= versions.Count ? (versions[v - 1], v, _schemas[versions[v - 1] - 1]) : null;
        }
    }

    public (int Id, int Version)? Lookup(string subject, string schema)
    {
        lock (_lock)
        {
            var id = _schemas.IndexOf(schema) + 1;
            if (id == 0 || !_subjects.TryGetValue(subject, out var versions) || !versions.Contains(id)) return null;
            return (id, versions.IndexOf(id) + 1);
        }
    }

    public IReadOnlyList<string> Subjects()
    {
        lock (_lock) return [.. _subjects.Keys.Order(StringComparer.Ordinal)];
    }

    public IReadOnlyList<int> Versions(string subject)
    {
        lock (_lock) return _subjects.TryGetValue(subject, out var v) ? [.. Enumerable.Range(1, v.Count)] : [];
    }
}

/// <summary>A schema as the registry's REST API sends and receives it.</summary>
public sealed record SchemaBody(
    [property: JsonPropertyName("schema")] string Schema,
    [property: JsonPropertyName("schemaType")] string? SchemaType = null);

public static class SchemaRegistryEndpoints
{
    private const string ContentType = "application/vnd.schemaregistry.v1+json";
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static IEndpointRouteBuilder MapSchemaRegistry(this IEndpointRouteBuilder app)
    {
        app.MapPost("/subjects/{subject}/versions", (string subject, SchemaBody body, SchemaStore store) =>
        {
            if (!IsAvro(body)) return Error(StatusCodes.Status422UnprocessableEntity, 42201, "Only AVRO schemas are served by the stand-in");
            var (id, _) = store.Register(subject, body.Schema);
            return Json(new { id });
        });
        app.MapPost("/subjects/{subject}", (string subject, SchemaBody body, SchemaStore store) =>
            store.Lookup(subject, body.Schema) is { } found
                ? Json(new { subject, id = found.Id, version = found.Version, schema = body.Schema })
                : Error(StatusCodes.Status404NotFound, 40403, "Schema not found"));
        app.MapGet("/schemas/ids/{id:int}", (int id, SchemaStore store) =>
            store.ById(id) is { } schema ? Json(new { schema }) : Error(StatusCodes.Status404NotFound, 40403, "Schema not found"));
        app.MapGet("/subjects", (SchemaStore store) => Json(store.Subjects()));
        app.MapGet("/subjects/{subject}/versions", (string subject, SchemaStore store) =>
            store.Versions(subject) is { Count: > 0 } versions ? Json(versions) : Error(StatusCodes.Status404NotFound, 40401, "Subject not found"));
        app.MapGet("/subjects/{subject}/versions/{version}", (string subject, string version, SchemaStore store) =>
        {
            var v = version == "latest" ? -1 : int.TryParse(version, out var n) ? n : 0;
            return store.Version(subject, v) is { } found
                ? Json(new { subject, id = found.Id, version = found.Version, schema = found.Schema })
                : Error(StatusCodes.Status404NotFound, 40402, "Version not found");
        });
        app.MapGet("/config", () => Json(new { compatibilityLevel = "BACKWARD" }));
        app.MapGet("/config/{subject}", (string subject) => Json(new { compatibilityLevel = "BACKWARD" }));
        return app;
    }

    private static bool IsAvro(SchemaBody body) => body.SchemaType is null or "AVRO";

    private static IResult Json(object value) => Results.Json(value, s_json, ContentType);

    private static IResult Error(int status, int code, string message) =>
        Results.Json(new { error_code = code, message }, s_json, ContentType, status);
}

/// <summary>The stand-in inside another process (tests, benchmarks), on an ephemeral loopback port by default.</summary>
public sealed class SchemaRegistryStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SchemaRegistryStandIn(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>The base URL, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; }

    public static async Task<SchemaRegistryStandIn> StartAsync(string url = "http://127.0.0.1:0")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<SchemaStore>();
        var app = builder.Build();
        app.MapSchemaRegistry();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        return new SchemaRegistryStandIn(app, address);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
