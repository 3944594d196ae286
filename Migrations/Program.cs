using CustomerData.Migrations;

// Applies the platform's schema (MySQL customer_db, Cassandra customer_profile) once, then exits:
// 0 when it is in place, 1 when it could not be applied. The AppHost's services WaitForCompletion on it.
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.AddPlatformMigrations();

var host = builder.Build();
var outcome = host.Services.GetRequiredService<MigrationOutcome>();
await host.RunAsync();
return outcome.ExitCode;
