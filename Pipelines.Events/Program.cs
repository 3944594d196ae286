using CustomerData.Pipelines.Common;
using CustomerData.Pipelines.Events;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddEventsPipeline().AddEventsAdmin();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapEventsAdmin();
app.MapQualityEndpoint();
app.Run();
// A refusal to run (e.g. the lake belongs to another consumer group) ends the process with an error code.
return app.Services.GetRequiredService<IngestionState>().FatalError is null ? 0 : 1;
