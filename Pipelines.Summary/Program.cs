using CustomerData.Lake;
using CustomerData.Operations;
using CustomerData.Pipelines;
using CustomerData.Pipelines.Common;
using CustomerData.Pipelines.Summary;
using Microsoft.Extensions.Options;

SummaryCommandLine command;
try
{
    command = SummaryCommandLine.Parse(args);
}
catch (ArgumentException ex)
{
    if (ex.Message.Length == 0)
    {
        Console.WriteLine(SummaryCommandLine.Usage); // --help
        return 0;
    }
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(SummaryCommandLine.Usage);
    return 2;
}

var builder = WebApplication.CreateBuilder(command.HostArgs);
builder.AddServiceDefaults();
builder.Services.AddOptions<SummaryOptions>()
    .BindConfiguration(SummaryOptions.SectionName)
    .Configure(o => { if (command.Interval is { } interval) o.Interval = interval; })
    .Validate(o => o.Interval > TimeSpan.Zero && o.GracePeriod >= TimeSpan.Zero && o.WriteParallelism > 0 && o.MaxAttempts > 0
            && o.Reconcile.Interval > TimeSpan.Zero && o.LockTimeout >= TimeSpan.Zero,
        "Summary: Interval, Reconcile:Interval, WriteParallelism and MaxAttempts must be positive, GracePeriod and LockTimeout not negative.")
    .ValidateOnStart();
var connectionName = builder.Configuration.GetSection(SummaryOptions.SectionName).Get<SummaryOptions>()?.ConnectionName ?? new SummaryOptions().ConnectionName;
builder.AddMySqlDataSource(connectionName);
builder.Services.AddLakeStorage(builder.Configuration);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<SummaryTelemetry>();
builder.Services.AddSingleton(sp => sp.GetRequiredService<SummaryTelemetry>().Quality);
builder.Services.AddSingleton<SummaryHealthState>();
builder.Services.AddSingleton<SummaryPipeline>();
builder.Services.AddHealthChecks().AddCheck<SummaryHealthCheck>("summary-last-cycle", tags: ["ready"]);
if (command.Mode == RunMode.Continuous)
{
    builder.Services.AddHostedService<SummaryWorker>();
    builder.AddAdminEndpoints();
}

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapQualityEndpoint();

if (command.Mode == RunMode.Continuous)
{
    app.MapSummaryAdmin();
    await app.RunAsync();
    return 0;
}

// One-shot modes: no web server; the exit code tells success (0) or failure (1).
var options = app.Services.GetRequiredService<IOptions<SummaryOptions>>().Value;
var pipeline = app.Services.GetRequiredService<SummaryPipeline>();
var telemetry = app.Services.GetRequiredService<SummaryTelemetry>();
var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CustomerData.Pipelines.Summary");
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
var progress = new Progress<RebuildProgress>(p => logger.LogInformation(
    "Rebuild progress: {DaysDone}/{DaysTotal} days, {Transactions} transactions, {Elapsed:F1} s", p.DaysDone, p.DaysTotal, p.Transactions, p.Elapsed.TotalSeconds));
var ok = await SummaryRunner.RunWithRetryAsync(async ct =>
{
    var result = command.Mode == RunMode.Once ? await pipeline.RunCycleAsync(ct) : await pipeline.RebuildAsync(command.From, progress, ct);
    // Another instance held the writer lock for the whole wait: retried like a failure, so the run still happens.
    if (result.WasSkipped) throw new TimeoutException("The summary writer lock stayed held by another instance.");
}, options, telemetry, logger, cancel.Token);
return ok ? 0 : 1;
