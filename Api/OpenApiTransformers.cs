using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerData.Api.Apis;
using CustomerData.Api.Contract;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CustomerData.Api;

/// <summary>The document's title and description.</summary>
public sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Customer data platform API",
            Version = "v1",
            Description = "Customer profiles (Cassandra), daily transaction summaries and behaviour events (the Parquet lake, read with DuckDB), " +
                "and the pipelines' data-quality reports. " +
                "Every answer is the envelope {\"status\", \"message\", \"data\"}; errors carry \"data\": {}.",
        };
        // Bearer tokens (JWT) on every data route: the Scalar page asks for one and sends it.
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A JWT with scope customers:read (/customer) or analytics:read (/summary, /events, /quality). Locally: dotnet user-jwts create --project Api --scope customers:read --scope analytics:read",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", document)] = [] });
        return Task.CompletedTask;
    }
}

/// <summary>An example for every response of every operation: the bodies of SPEC §7 and the error envelopes.</summary>
public sealed class ApiExampleTransformer : IOpenApiOperationTransformer
{
    private static readonly Dictionary<string, string> s_success = new(StringComparer.Ordinal)
    {
        [nameof(CustomerApi.GetCustomer)] =
            """{"status":"success","message":"Customer profile retrieved successfully","data":{"customer_id":456,"name":"Customer_456","email":"customer_456@example.com","gender":"M","total_spend":143949.5,"total_transactions":6,"avg_order_value":23991.58,"first_purchase":"2022-03-07T06:30:00Z","last_purchase":"2024-05-18T18:17:40Z","favorite_category":"Grocery"}}""",
        [nameof(SummaryApi.GetDailySummaries)] =
            """{"status":"success","message":"Daily transaction summaries retrieved successfully","data":{"summaries":[{"date":"2025-12-10","customer_id":1088,"total_amount":57714.9,"total_items":6,"distinct_products":1,"top_category":"Sports"}]}}""",
        [nameof(SummaryApi.GetCustomerSummaries)] =
            """{"status":"success","message":"Customer daily summaries retrieved successfully","data":{"summaries":[{"date":"2025-12-09","customer_id":3156,"total_amount":420.5,"total_items":3,"distinct_products":2,"top_category":"Toys"},{"date":"2025-12-10","customer_id":3156,"total_amount":12895.28,"total_items":2,"distinct_products":1,"top_category":"Electronics"}]}}""",
        [nameof(SummaryApi.GetCustomerDailySummary)] =
            """{"status":"success","message":"Daily transaction summary retrieved successfully","data":{"summary":{"date":"2025-12-10","customer_id":3156,"total_amount":12895.28,"total_items":2,"distinct_products":1,"top_category":"Electronics"}}}""",
        [nameof(EventsApi.GetCustomerEvents)] =
            """{"status":"success","message":"Customer events retrieved successfully","data":{"events":[{"date":"2025-12-09","event_id":"dd4b27a2-3c1e-4a8f-9a55-0c1f3e2b7d10","customer_id":2942,"event_type":"CART_ADD","product_id":491,"event_timestamp":"2025-12-09T18:18:50.850395Z","ingestion_timestamp":"2025-12-09T18:18:59.149Z"}]}}""",
        [nameof(QualityApi.GetPlatformQuality)] =
            """{"status":"success","message":"Data quality retrieved successfully","data":{"generated_at":"2026-12-01T14:02:10.530Z","summary":{"worst_freshness":{"pipeline":"pipelines-profile","freshness_seconds":41.5},"rejects_by_pipeline":{"pipelines-events":3,"pipelines-profile":1},"unreachable":["pipelines-summary"]},"pipelines":[{"name":"pipelines-events","status":"ok","reason":null,"report":{"pipeline":"events","generated_at":"2026-12-01T14:02:10.520Z","freshness_seconds":1.2,"newest_record_at":"2026-12-01T14:02:09.3Z","lag":12,"lag_unit":"messages","since_start":{"cycles":310,"rows_checked":52110,"rejects":[{"reason":"undecodable","count":3,"samples":[]}],"warnings":[]},"cycles":[{"kind":"batch","started_at":"2026-12-01T14:02:09.401Z","finished_at":"2026-12-01T14:02:09.47Z","succeeded":true,"rows_checked":180,"rejects":[{"reason":"undecodable","count":3,"samples":["partition=0 offset=52007 customer_id: bad or truncated int"]}],"warnings":[],"newest_record_at":"2026-12-01T14:02:09.3Z","lag":12}]}},{"name":"pipelines-profile","status":"ok","reason":null,"report":{"pipeline":"profile","generated_at":"2026-12-01T14:02:10.512Z","freshness_seconds":41.5,"newest_record_at":"2026-12-01T14:01:29Z","lag":0,"lag_unit":"transactions","since_start":{"cycles":42,"rows_checked":1203,"rejects":[{"reason":"email_invalid","count":2,"samples":[]}],"warnings":[{"reason":"name_null","count":1,"samples":[]}]},"cycles":[{"kind":"incremental","started_at":"2026-12-01T14:02:05.101Z","finished_at":"2026-12-01T14:02:05.388Z","succeeded":true,"rows_checked":31,"rejects":[{"reason":"email_invalid","count":1,"samples":["customer_id=4711 email=<email: 12 chars, no '@'>"]}],"warnings":[],"newest_record_at":"2026-12-01T14:01:29Z","lag":17}]}},{"name":"pipelines-summary","status":"unreachable","reason":"timeout","report":null}]}}""",
        [nameof(QualityApi.GetPipelineQuality)] =
            """{"status":"success","message":"Pipeline data quality retrieved successfully","data":{"name":"pipelines-profile","status":"ok","reason":null,"report":{"pipeline":"profile","generated_at":"2026-12-01T14:02:10.512Z","freshness_seconds":41.5,"newest_record_at":"2026-12-01T14:01:29Z","lag":0,"lag_unit":"transactions","since_start":{"cycles":42,"rows_checked":1203,"rejects":[{"reason":"email_invalid","count":2,"samples":[]}],"warnings":[{"reason":"name_null","count":1,"samples":[]}]},"cycles":[{"kind":"incremental","started_at":"2026-12-01T14:02:05.101Z","finished_at":"2026-12-01T14:02:05.388Z","succeeded":true,"rows_checked":31,"rejects":[{"reason":"email_invalid","count":1,"samples":["customer_id=4711 email=<email: 12 chars, no '@'>"]}],"warnings":[],"newest_record_at":"2026-12-01T14:01:29Z","lag":17}]}}}""",
    };

    private static readonly Dictionary<string, string> s_badRequest = new(StringComparer.Ordinal)
    {
        [nameof(CustomerApi.GetCustomer)] = ApiMessages.InvalidCustomerId,
        [nameof(SummaryApi.GetDailySummaries)] = ApiMessages.InvalidDateFormat,
        [nameof(SummaryApi.GetCustomerDailySummary)] = ApiMessages.InvalidDateFormat,
        [nameof(SummaryApi.GetCustomerSummaries)] = ApiMessages.InvalidFromDate,
        [nameof(EventsApi.GetCustomerEvents)] = ApiMessages.InvalidLimit,
    };

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var name = operation.OperationId ?? "";
        if (operation.Responses is null) return Task.CompletedTask;
        foreach (var (status, response) in operation.Responses)
        {
            var example = status switch
            {
                "200" => s_success.GetValueOrDefault(name),
                "400" => Error(s_badRequest.GetValueOrDefault(name, ApiMessages.InvalidRequest)),
                "401" => Error(ApiMessages.Unauthorized),
                "403" => Error(ApiMessages.Forbidden),
                "404" => Error(ApiMessages.NotFound),
                "429" => Error(ApiMessages.RateLimited),
                "500" => Error(ApiMessages.InternalError),
                "503" => Error(ApiMessages.Unavailable),
                _ => null,
            };
            if (example is null || response.Content is null) continue;
            foreach (var media in response.Content.Values) media.Example = JsonNode.Parse(example);
        }
        return Task.CompletedTask;
    }

    private static string Error(string message) => JsonSerializer.Serialize(ErrorEnvelope.For(message), ApiJsonContext.Default.ErrorEnvelope);
}
