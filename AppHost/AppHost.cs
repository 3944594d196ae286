var builder = DistributedApplication.CreateBuilder(args);

var api = builder.AddProject<Projects.Api>("api");
var producer = builder.AddProject<Projects.Producer>("producer");
var profile = builder.AddProject<Projects.Pipelines_Profile>("pipelines-profile");
var summary = builder.AddProject<Projects.Pipelines_Summary>("pipelines-summary");
var events = builder.AddProject<Projects.Pipelines_Events>("pipelines-events");

builder.Build().Run();
