using CustomerData.Pipelines.Events;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddEventsPipeline();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
