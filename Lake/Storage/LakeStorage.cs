using CustomerData.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CustomerData.Lake;

/// <summary>Chooses the backend from the root and registers it for dependency injection.</summary>
public static class LakeStorage
{
    /// <summary><c>s3://bucket/prefix</c> → <see cref="S3LakeStorage"/>; anything else is a local folder.</summary>
    public static ILakeStorage Create(LakeOptions options) =>
        options.IsS3 ? new S3LakeStorage(options) : new LocalFolderLakeStorage(options.Root);

    /// <summary>
    /// Binds <see cref="LakeOptions"/> from the <c>Lake</c> section (the connection string
    /// <c>ConnectionStrings:lake</c>, when set, gives the root) and registers one <see cref="ILakeStorage"/>.
    /// </summary>
    public static IServiceCollection AddLakeStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LakeOptions>()
            .Bind(configuration.GetSection(LakeOptions.SectionName))
            .PostConfigure(options => ApplyConnectionString(options, configuration));
        services.AddSingleton<ILakeStorage>(sp => Create(sp.GetRequiredService<IOptions<LakeOptions>>().Value));
        return services;
    }

    /// <summary>Options from configuration without a service provider (tools, benchmarks).</summary>
    public static LakeOptions ReadOptions(IConfiguration configuration)
    {
        var options = new LakeOptions();
        configuration.GetSection(LakeOptions.SectionName).Bind(options);
        ApplyConnectionString(options, configuration);
        return options;
    }

    private static void ApplyConnectionString(LakeOptions options, IConfiguration configuration)
    {
        var root = configuration.GetConnectionString(PlatformNames.Connections.Lake);
        if (!string.IsNullOrWhiteSpace(root)) options.Root = root;
    }
}
