using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;

namespace CustomerData.AppHost.Tests;

/// <summary>
/// `dotnet run --project AppHost -- --publisher manifest --output-path …` describes the containers stack:
/// every server, setup job and project, pinned images, volumes and secret parameters.
/// </summary>
public sealed class ManifestTests
{
    private static readonly string[] s_servers = ["mysql", "kafka", "cassandra", "lake"];
    private static readonly string[] s_setupJobs = ["cassandra-init", "lake-bucket"];
    // Keeps its schemas in Kafka's _schemas topic: a container without a volume of its own.
    private static readonly string[] s_stateless = ["schema-registry"];
    private static readonly string[] s_projects = ["migrations", "producer", "pipelines-profile", "pipelines-summary", "pipelines-events", "api"];
    private static readonly string[] s_secrets =
        ["mysql-password", "mysql-root-password", "cassandra-password", "cassandra-admin-password", "lake-access-key", "lake-secret-key", "lake-root-user", "lake-root-password", "ops-signing-key"];

    [Fact]
    public async Task Manifest_lists_every_resource_of_the_containers_stack_even_when_local_mode_is_configured()
    {
        var resources = await PublishManifestAsync(TestContext.Current.CancellationToken);

        var expected = s_servers.Concat(s_setupJobs).Concat(s_stateless).Concat(s_projects).Concat(s_secrets).Order().ToArray();
        Assert.Equal(expected, resources.Select(r => r.Key).Order().ToArray());

        foreach (var name in s_servers.Concat(s_setupJobs).Concat(s_stateless))
        {
            Assert.Equal("container.v0", Type(resources, name));
            var image = (string)resources[name]!["image"]!;
            Assert.Matches(@"^[a-z0-9./-]+:[A-Za-z0-9._-]+$", image);
            Assert.DoesNotContain(":latest", image);
        }
        foreach (var name in s_servers)
        {
            var volumes = resources[name]!["volumes"]?.AsArray() ?? [];
            Assert.True(volumes.Count > 0, $"{name} keeps its data in a named volume");
        }
        foreach (var name in s_secrets)
        {
            Assert.Equal("parameter.v0", Type(resources, name));
            Assert.True((bool?)resources[name]!["inputs"]?["value"]?["secret"] == true, $"{name} is a secret parameter");
        }
        Assert.Contains("User ID=platform;Password={mysql-password.value}", (string)resources["mysql"]!["connectionString"]!);
        Assert.DoesNotContain("root", (string)resources["mysql"]!["connectionString"]!);

        foreach (var name in s_projects)
        {
            Assert.Equal("project.v0", Type(resources, name));
            var env = resources[name]!["env"]!.AsObject();
            // Each project gets exactly what it uses.
            var uses = LocalStackTests.ServicesUsed[name];
            Assert.Equal(uses.Contains("mysql") ? "{mysql.connectionString}" : null, (string?)env["ConnectionStrings__customerdb"]);
            Assert.Equal(uses.Contains("kafka") ? "{kafka.connectionString}" : null, (string?)env["ConnectionStrings__kafka"]);
            Assert.Equal(uses.Contains("cassandra"), env.ContainsKey("ConnectionStrings__cassandra"));
            if (uses.Contains("cassandra")) Assert.StartsWith("Contact Points={cassandra.bindings.tcp.host}:{cassandra.bindings.tcp.port};Keyspace=customer_data;", (string?)env["ConnectionStrings__cassandra"]);
            Assert.Equal(uses.Contains("lake"), env.ContainsKey("Lake__Root"));
            if (uses.Contains("lake"))
            {
                Assert.Equal("s3://lake", (string?)env["Lake__Root"]);
                Assert.Equal("{lake.bindings.http.url}", (string?)env["Lake__ServiceUrl"]);
                Assert.Equal("{lake-access-key.value}", (string?)env["Lake__AccessKey"]);
                Assert.Equal("{lake-secret-key.value}", (string?)env["Lake__SecretKey"]);
            }
            if (name == "pipelines-events") Assert.Equal("{schema-registry.bindings.http.url}", (string?)env["Events__SchemaRegistry__Url"]);
            if (name == "producer") Assert.Equal("{schema-registry.bindings.http.url}", (string?)env["Producer__SchemaRegistryUrl"]);
            if (name == "producer") Assert.Equal("0.01", (string?)env["Producer__MalformedRate"]);
            // Least privilege: no service holds a root or admin credential.
            Assert.DoesNotContain("root", env.ToJsonString(), StringComparison.Ordinal);
            Assert.DoesNotContain("cassandra-admin", env.ToJsonString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Containers_mode_gives_the_services_least_privilege_credentials_and_disables_the_default_superuser()
    {
        var resources = await PublishManifestAsync(TestContext.Current.CancellationToken);
        var mysqlEnv = resources["mysql"]!["env"]!.AsObject();
        Assert.Equal("{mysql-root-password.value}", (string?)mysqlEnv["MYSQL_ROOT_PASSWORD"]);
        Assert.Equal("platform", (string?)mysqlEnv["MYSQL_USER"]);
        Assert.Equal("{mysql-password.value}", (string?)mysqlEnv["MYSQL_PASSWORD"]);

        var cassandraSetup = string.Join(' ', resources["cassandra-init"]!["args"]!.AsArray().Select(a => (string?)a));
        Assert.Contains("ALTER ROLE cassandra WITH SUPERUSER = false AND LOGIN = false", cassandraSetup);
        Assert.Contains("CREATE ROLE IF NOT EXISTS $PLATFORM_USER WITH PASSWORD = '$PLATFORM_PASSWORD' AND LOGIN = true AND SUPERUSER = false", cassandraSetup);
        Assert.DoesNotContain("GRANT ALL", cassandraSetup);
        Assert.Equal("{cassandra-admin-password.value}", (string?)resources["cassandra-init"]!["env"]!["ADMIN_PASSWORD"]);

        var lakeEnv = resources["lake"]!["env"]!.AsObject();
        Assert.Equal("{lake-root-user.value}", (string?)lakeEnv["MINIO_ROOT_USER"]);
        Assert.Equal("{lake-root-password.value}", (string?)lakeEnv["MINIO_ROOT_PASSWORD"]);
        var lakeSetup = string.Join(' ', resources["lake-bucket"]!["args"]!.AsArray().Select(a => (string?)a));
        Assert.Contains("arn:aws:s3:::%s/*", lakeSetup);
        Assert.DoesNotContain("s3:*", lakeSetup);
        Assert.Contains("mc admin policy attach lake lake-rw --user", lakeSetup);
        Assert.Equal("{lake-access-key.value}", (string?)resources["lake-bucket"]!["env"]!["SERVICE_ACCESS_KEY"]);
    }

    private static string? Type(JsonObject resources, string name) => (string?)resources[name]?["type"];

    /// <summary>Runs the README's publish command against the built AppHost and returns the manifest's resources.</summary>
    private static async Task<JsonObject> PublishManifestAsync(CancellationToken cancellationToken)
    {
        var appHostProject = Projects.AppHost.ProjectPath;
        var configuration = typeof(ManifestTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var output = Path.Combine(Path.GetTempPath(), $"cdp-manifest-{Guid.NewGuid():N}", "aspire-manifest.json");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "run", "--project", appHostProject, "--no-build", "--configuration", configuration,
                     "--", "--publisher", "manifest", "--output-path", output })
        {
            psi.ArgumentList.Add(arg);
        }
        // Publishing must describe the containers stack whatever the configured mode.
        psi.Environment["Stack__Mode"] = "local";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("Publishing the manifest took longer than 2 minutes.");
        }
        Assert.True(process.ExitCode == 0, $"The publish command failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        try
        {
            var manifest = JsonNode.Parse(await File.ReadAllTextAsync(output, cancellationToken))!;
            return manifest["resources"]!.AsObject();
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(output)!, recursive: true);
        }
    }
}
