using CustomerData.SchemaRegistry.DevServer;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddSingleton<SchemaStore>();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapSchemaRegistry();
app.Run();
