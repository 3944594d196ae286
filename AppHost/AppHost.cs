using CustomerData.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

// Containers where Docker/Podman answers (and always for publishing), local processes otherwise;
// Stack:Mode=auto|containers|local overrides. Same projects and configuration keys either way.
var mode = StackModeSelector.Select(builder);
var stack = mode == StackMode.Containers ? builder.AddContainerStack() : builder.AddLocalStack();

// The Confluent wire format's registry: the Producer registers the contract there (when Producer:Format is confluent),
// Pipeline C resolves writer schemas from it.
var registry = stack.SchemaRegistry.GetEndpoint("http");

// The schema (MySQL customer_db, Cassandra customer_profile), applied once; the services that read those wait for it to complete.
var migrations = builder.AddMigrations<Projects.Migrations>("migrations")
    .WithMySql(stack)
    .WithCassandra(stack);

// Each project lists exactly what it uses, and waits for it.
var producer = builder.AddPlatformProject<Projects.Producer>("producer")
    .WithMySql(stack)
    .WithKafka(stack)
    .WaitForCompletion(migrations)
    .WithEnvironment("Producer__SchemaRegistryUrl", registry).WaitFor(stack.SchemaRegistry)
    // A small malformed share, so the dashboard shows Pipeline C's malformed path too.
    .WithEnvironment("Producer__MalformedRate", "0.01");
var pipelinesProfile = builder.AddPlatformProject<Projects.Pipelines_Profile>("pipelines-profile")
    .WithMySql(stack)
    .WithCassandra(stack)
    .WaitForCompletion(migrations);
var pipelinesSummary = builder.AddPlatformProject<Projects.Pipelines_Summary>("pipelines-summary")
    .WithMySql(stack)
    .WithLake(stack)
    .WaitForCompletion(migrations);
if (mode == StackMode.Local)
{
    // Local mode is for watching the system work: a new transaction shows in /customer and /summary within seconds
    // (a cycle every 2 s; README "Freshness"), and any other change in MySQL within 2 minutes (reconcile).
    pipelinesProfile.WithEnvironment("Profile__Interval", "00:00:02").WithEnvironment("Profile__Reconcile__Interval", "00:02:00");
    pipelinesSummary.WithEnvironment("Summary__Interval", "00:00:02").WithEnvironment("Summary__Reconcile__Interval", "00:02:00");
}
var pipelinesEvents = builder.AddPlatformProject<Projects.Pipelines_Events>("pipelines-events")
    .WithKafka(stack)
    .WithLake(stack)
    .WithEnvironment("Events__SchemaRegistry__Url", registry).WaitFor(stack.SchemaRegistry);
var api = builder.AddPlatformProject<Projects.Api>("api")
    .WithCassandra(stack)
    .WithLake(stack)
    .WaitForCompletion(migrations)
    .WithExternalHttpEndpoints()
    // The API reference (Scalar, Development only) as a link on the api resource in the dashboard.
    .WithUrlForEndpoint("http", _ => new ResourceUrlAnnotation { Url = "/scalar/v1", DisplayText = "API reference (Scalar)" })
    // GET /quality reads each pipeline's report; the dashboard links the platform's (it needs an analytics:read token).
    .WithQualitySource(pipelinesProfile).WithQualitySource(pipelinesSummary).WithQualitySource(pipelinesEvents)
    .WithUrlForEndpoint("http", _ => new ResourceUrlAnnotation { Url = "/quality", DisplayText = "Data quality (/quality)" });
if (mode == StackMode.Local)
{
    // One developer's load test is one client: 100,000 requests/s each does not throttle it (production default: 200/s, burst 400).
    api.WithEnvironment("Api__RateLimit__PermitsPerSecond", "100000").WithEnvironment("Api__RateLimit__Burst", "100000");
}

// Operator commands on the workers (docs/apphost.md, "Operator commands"), authenticated with tokens the AppHost mints.
builder.AddOperatorCommands(producer, pipelinesProfile, pipelinesSummary, pipelinesEvents);

builder.AddStartupReport();

builder.Build().Run();
