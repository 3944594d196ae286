using CustomerData.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

// Containers where Docker/Podman answers (and always for publishing), local processes otherwise;
// Stack:Mode=auto|containers|local overrides. Same projects and configuration keys either way.
var mode = StackModeSelector.Select(builder);
var stack = mode == StackMode.Containers ? builder.AddContainerStack() : builder.AddLocalStack();

var producer = builder.AddPlatformProject<Projects.Producer>("producer", stack);
var pipelinesProfile = builder.AddPlatformProject<Projects.Pipelines_Profile>("pipelines-profile", stack);
var pipelinesSummary = builder.AddPlatformProject<Projects.Pipelines_Summary>("pipelines-summary", stack);
if (mode == StackMode.Local)
{
    // Local mode is for watching the system work: a change in MySQL reaches the outputs within 2 minutes.
    pipelinesProfile.WithEnvironment("Profile__Reconcile__Interval", "00:02:00");
    pipelinesSummary.WithEnvironment("Summary__Reconcile__Interval", "00:02:00");
}
var pipelinesEvents = builder.AddPlatformProject<Projects.Pipelines_Events>("pipelines-events", stack);
var api = builder.AddPlatformProject<Projects.Api>("api", stack)
    .WithExternalHttpEndpoints();

builder.AddStartupReport();

builder.Build().Run();
