using CustomerData.Contracts;
using CustomerData.Operations;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace CustomerData.Pipelines.Profile;

public static class ProfilePipelineExtensions
{
    /// <summary>
    /// Registers Pipeline A: options (<c>Profile</c> section), the MySQL source (<c>ConnectionStrings:customerdb</c>),
    /// the Cassandra store (<c>ConnectionStrings:cassandra</c>), the cycle runner and the health check on the
    /// age of the last good cycle. The continuous worker is added by <paramref name="continuous"/>.
    /// </summary>
    public static IHostApplicationBuilder AddProfilePipeline(this IHostApplicationBuilder builder, bool continuous)
    {
        builder.AddMySqlDataSource(PlatformNames.Connections.MySql);
        builder.AddCassandraSession(PlatformNames.Connections.Cassandra);
        builder.Services.AddOptions<ProfileOptions>()
            .BindConfiguration(ProfileOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ProfileCycleState>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<ProfileCycleState>().Quality);
        builder.Services.AddSingleton(sp => new MySqlProfileSource(
            sp.GetRequiredService<MySqlDataSource>(), sp.GetRequiredService<IOptions<ProfileOptions>>().Value));
        builder.Services.AddSingleton<IProfileStore, CassandraProfileStore>();
        builder.Services.AddSingleton<ProfileCycleRunner>();
        builder.Services.AddHealthChecks().AddCheck<ProfileHealthCheck>("profile-cycle", tags: ["ready"]);
        if (continuous)
        {
            builder.Services.AddHostedService<ProfileWorker>();
            builder.AddAdminEndpoints();
        }
        return builder;
    }
}
