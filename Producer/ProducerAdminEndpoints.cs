using CustomerData.Operations;
using CustomerData.Producer.Live;

namespace CustomerData.Producer;

/// <summary>The live stream's state, as <c>GET /admin/live</c> answers it.</summary>
public sealed record LiveStreamStatus(string State, DateTimeOffset? ChangedUtc);

/// <summary>
/// Operator commands of the live Producer under <c>/admin</c> (scope <c>ops:write</c>): <c>POST /admin/live/pause</c>
/// and <c>POST /admin/live/resume</c> (immediate and idempotent: a second pause keeps it paused, 200 both times),
/// <c>GET /admin/live</c>. A switch, not a long operation, so there is nothing to refuse with 409.
/// </summary>
public static partial class ProducerAdminEndpoints
{
    public const string LivePath = "live";

    public static WebApplication MapProducerAdmin(this WebApplication app)
    {
        var admin = app.MapAdminGroup();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProducerAdminEndpoints).FullName!);
        admin.MapPost(LivePath + "/pause", (LiveStreamSwitch live) =>
        {
            var changed = live.Pause();
            LogSwitched(logger, "paused", changed);
            return AdminResults.Success(changed ? "Live stream paused" : "Live stream was already paused", Status(live));
        });
        admin.MapPost(LivePath + "/resume", (LiveStreamSwitch live) =>
        {
            var changed = live.Resume();
            LogSwitched(logger, "resumed", changed);
            return AdminResults.Success(changed ? "Live stream resumed" : "Live stream was already running", Status(live));
        });
        admin.MapGet(LivePath, (LiveStreamSwitch live) => AdminResults.Success("Live stream status", Status(live)));
        return app;
    }

    private static LiveStreamStatus Status(LiveStreamSwitch live) => new(live.IsPaused ? "paused" : "running", live.ChangedUtc);

    [LoggerMessage(Level = LogLevel.Information, Message = "Operator command: live stream {Action} (changed: {Changed})")]
    private static partial void LogSwitched(ILogger logger, string action, bool changed);
}
