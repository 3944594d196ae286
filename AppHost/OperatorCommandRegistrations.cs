using Aspire.Hosting.ApplicationModel;

namespace CustomerData.AppHost;

/// <summary>Which command goes on which resource.</summary>
public static class OperatorCommandRegistrations
{
    /// <summary>
    /// The operator commands of issue 17 on the worker resources, and the signing key the workers validate tokens with.
    /// "Rebuild summary days" asks for a range (default: the last 7 days up to the AppHost's start day); "Compact today's
    /// events" takes an optional day (empty: today, as the worker's clock says).
    /// </summary>
    public static void AddOperatorCommands(this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> producer,
        IResourceBuilder<ProjectResource> profile, IResourceBuilder<ProjectResource> summary, IResourceBuilder<ProjectResource> events)
    {
        var key = builder.AddOperatorSigningKey();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        producer.WithOperatorAuthentication(key)
            .WithOperatorCommand(key, "pause-live-stream", "Pause live stream", "live/pause", "Stop appending transactions and sending events until resumed.", "Pause")
            .WithOperatorCommand(key, "resume-live-stream", "Resume live stream", "live/resume", "Go on appending transactions and sending events.", "Play");
        profile.WithOperatorAuthentication(key)
            .WithOperatorCommand(key, "rebuild-profiles", "Rebuild profiles", "profiles/rebuild", "Recompute every customer's profile from MySQL.", "ArrowSync");
        summary.WithOperatorAuthentication(key)
            .WithOperatorCommand(key, "rebuild-summary-days", "Rebuild summary days", "summary/rebuild", "Backfill or rebuild the summary lake's days of a date range.", "CalendarSync",
                [OperatorCommands.DayInput("fromDate", "From (YYYY-MM-DD, UTC)", today.AddDays(-6)), OperatorCommands.DayInput("toDate", "To (YYYY-MM-DD, UTC)", today)]);
        events.WithOperatorAuthentication(key)
            .WithOperatorCommand(key, "compact-events-day", "Compact today's events", "events/compact", "Compact one events day into as few files as possible now.", "ArrowMinimize",
                [new InteractionInput { Name = "day", Label = "Day (YYYY-MM-DD, UTC; empty: today)", InputType = InputType.Text, Required = false }])
            .WithOperatorCommand(key, "replay-malformed-events", "Replay quarantined events", "events/replay-malformed", "Re-decode the malformed area with the current decoder and schema registry.", "ArrowReplyAll");
    }
}
