using Aspire.Hosting.ApplicationModel;
using CustomerData.Contracts;
using Microsoft.Extensions.Configuration;

namespace CustomerData.AppHost;

/// <summary>
/// What the services need from the backing services, whichever mode made them: the resources to wait
/// for and the values of the configuration contract (ConnectionStrings__customerdb/kafka/cassandra, Lake__*).
/// </summary>
public sealed record PlatformStack(
    StackMode Mode,
    IResourceBuilder<IResourceWithConnectionString> MySql,
    IResourceBuilder<IResourceWithConnectionString> Kafka,
    IResourceBuilder<IResource> Cassandra,
    ReferenceExpression CassandraConnectionString,
    LakeWiring Lake)
{
    /// <summary>Runs to completion once Cassandra has the platform's role and keyspace (containers mode).</summary>
    public IResourceBuilder<IResource>? CassandraSetup { get; init; }

    /// <summary>The schema registry of the Confluent wire format (Confluent's in containers mode, the stand-in locally) and its URL.</summary>
    public required IResourceBuilder<IResourceWithEndpoints> SchemaRegistry { get; init; }
}

/// <summary>The lake root (a folder or <c>s3://lake</c>) and, for S3, its endpoint and keys.</summary>
public sealed record LakeWiring(ReferenceExpression Root)
{
    public IResourceBuilder<IResource>? Server { get; init; }
    /// <summary>Runs to completion once the bucket exists (containers mode).</summary>
    public IResourceBuilder<IResource>? BucketSetup { get; init; }
    public ReferenceExpression? ServiceUrl { get; init; }
    public ReferenceExpression? AccessKey { get; init; }
    public ReferenceExpression? SecretKey { get; init; }
}

public static class PlatformStackExtensions
{
    public const string DataPathKey = "Stack:DataPath";
    public const string LakeKey = "Stack:Lake";

    /// <summary>Local mode's data folder: <c>Stack:DataPath</c>, else <c>.data/</c> at the repository root.</summary>
    public static string LocalDataFolder(this IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration[DataPathKey];
        var folder = string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(builder.AppHostDirectory, "..", ".data")
            : Path.Combine(builder.AppHostDirectory, configured);
        return Path.GetFullPath(folder);
    }

    /// <summary>A secret generated once and kept in the AppHost's user secrets (override with <c>Parameters:{name}</c>).</summary>
    public static IResourceBuilder<ParameterResource> AddGeneratedSecret(this IDistributedApplicationBuilder builder, string name) =>
        // No special characters: the value goes into connection strings and shell environments unquoted.
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);

    /// <summary>
    /// A service project with the one http endpoint, its <c>/health</c> check in the dashboard and telemetry; what it uses
    /// of the stack is added with <see cref="WithMySql"/>, <see cref="WithKafka"/>, <see cref="WithCassandra"/> and
    /// <see cref="WithLake"/> (each a reference plus a wait, as eShop's AppHost lists them).
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddPlatformProject<TProject>(
        this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new() =>
        builder
            // Launch profiles and Kestrel settings of the projects are for running them alone;
            // under the AppHost the one http endpoint below is the whole story.
            .AddProject<TProject>(name, options =>
            {
                options.ExcludeLaunchProfile = true;
                options.ExcludeKestrelEndpoints = true;
            })
            .WithHttpEndpoint(name: "http")
            .WithHttpHealthCheck("/health");

    /// <summary>
    /// The one-shot schema migration (as aspire-samples' database-migrations): no endpoint, no health check; it runs,
    /// exits 0, and the services that <c>WaitForCompletion</c> on it start.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddMigrations<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>(name, options => options.ExcludeLaunchProfile = true);

    /// <summary><c>ConnectionStrings__customerdb</c>, waiting for MySQL.</summary>
    public static IResourceBuilder<ProjectResource> WithMySql(this IResourceBuilder<ProjectResource> project, PlatformStack stack) =>
        project.WithReference(stack.MySql, PlatformNames.Connections.MySql).WaitFor(stack.MySql);

    /// <summary><c>ConnectionStrings__kafka</c>, waiting for Kafka.</summary>
    public static IResourceBuilder<ProjectResource> WithKafka(this IResourceBuilder<ProjectResource> project, PlatformStack stack) =>
        project.WithReference(stack.Kafka, PlatformNames.Connections.Kafka).WaitFor(stack.Kafka);

    /// <summary><c>ConnectionStrings__cassandra</c> (the platform role), waiting for Cassandra and, in containers mode, its setup job.</summary>
    public static IResourceBuilder<ProjectResource> WithCassandra(this IResourceBuilder<ProjectResource> project, PlatformStack stack)
    {
        project.WithEnvironment("ConnectionStrings__" + PlatformNames.Connections.Cassandra, stack.CassandraConnectionString)
            .WithReferenceRelationship(stack.Cassandra).WaitFor(stack.Cassandra);
        // The services log in with the platform role, which exists only once the setup job has run.
        if (stack.CassandraSetup is { } cassandraSetup) project.WaitForCompletion(cassandraSetup);
        return project;
    }

    /// <summary><c>Lake__Root</c> (and for S3 the endpoint and the services' keys), waiting for the lake's server and bucket job.</summary>
    public static IResourceBuilder<ProjectResource> WithLake(this IResourceBuilder<ProjectResource> project, PlatformStack stack)
    {
        project.WithEnvironment("Lake__Root", stack.Lake.Root);
        if (stack.Lake.Server is { } lakeServer) project.WithReferenceRelationship(lakeServer).WaitFor(lakeServer);
        // Writers fail on a missing bucket; the bucket job creates it after MinIO is healthy.
        if (stack.Lake.BucketSetup is { } bucketSetup) project.WaitForCompletion(bucketSetup);
        if (stack.Lake.ServiceUrl is { } serviceUrl) project.WithEnvironment("Lake__ServiceUrl", serviceUrl);
        if (stack.Lake.AccessKey is { } accessKey) project.WithEnvironment("Lake__AccessKey", accessKey);
        if (stack.Lake.SecretKey is { } secretKey) project.WithEnvironment("Lake__SecretKey", secretKey);
        return project;
    }

    /// <summary>
    /// The Api's <c>GET /quality</c> source <paramref name="pipeline"/>: a reference (service discovery's
    /// <c>services__{name}__http__0</c>, no wait: the Api reports a pipeline that is not up as unreachable) and
    /// <c>Quality__Sources__{name}=http://{name}</c>, the name service discovery resolves.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithQualitySource(this IResourceBuilder<ProjectResource> api, IResourceBuilder<ProjectResource> pipeline) =>
        api.WithReference(pipeline).WithEnvironment($"Quality__Sources__{pipeline.Resource.Name}", $"http://{pipeline.Resource.Name}");

    internal static string ConfiguredLake(this IDistributedApplicationBuilder builder) =>
        (builder.Configuration[LakeKey] ?? "folder").Trim().ToLowerInvariant();
}
