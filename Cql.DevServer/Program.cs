using CustomerData.Cql.DevServer;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddOptions<CqlDevServerOptions>().BindConfiguration("DevServer");
builder.Services.AddSingleton<CqlDevServerHost>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<CqlDevServerHost>());
builder.Services.AddHealthChecks().AddCheck<CqlDevServerHealthCheck>("cql-dev-server", tags: ["ready"]);

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
