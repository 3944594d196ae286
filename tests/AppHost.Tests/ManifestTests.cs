using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

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
        var resources = await AspireManifest.ResourcesAsync();

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
            // The Api's GET /quality reads each pipeline's report by its service-discovery name (issue 17).
            foreach (var pipeline in new[] { "pipelines-profile", "pipelines-summary", "pipelines-events" })
            {
                Assert.Equal(name == "api" ? $"http://{pipeline}" : null, (string?)env[$"Quality__Sources__{pipeline}"]);
                Assert.Equal(name == "api" ? $"{{{pipeline}.bindings.http.url}}" : null, (string?)env[$"services__{pipeline}__http__0"]);
            }
            // Least privilege: no service holds a root or admin credential.
            Assert.DoesNotContain("root", env.ToJsonString(), StringComparison.Ordinal);
            Assert.DoesNotContain("cassandra-admin", env.ToJsonString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Containers_mode_gives_the_services_least_privilege_credentials_and_disables_the_default_superuser()
    {
        var resources = await AspireManifest.ResourcesAsync();
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

    [Fact]
    public async Task Every_reference_in_the_manifest_names_a_resource_it_holds_and_each_project_references_exactly_what_it_uses()
    {
        var resources = await AspireManifest.ResourcesAsync();
        var dangling = new List<string>();
        foreach (var (name, resource) in resources)
        {
            foreach (Match match in AspireManifest.Placeholder().Matches(resource!.ToJsonString()))
            {
                if (!resources.ContainsKey(match.Groups["resource"].Value)) dangling.Add($"{name}: {match.Value}");
            }
        }
        Assert.True(dangling.Count == 0, "References to resources the manifest lacks:\n" + string.Join('\n', dangling));

        var repositoryRoot = Deploy.DeployTools.RepositoryRoot();
        foreach (var name in s_projects)
        {
            // The project file, relative to the manifest: its folder and file name are the project's own.
            var path = ((string)resources[name]!["path"]!).Replace('\\', '/');
            var projectFile = string.Join('/', path.Split('/')[^2..]);
            Assert.True(File.Exists(Path.Combine(repositoryRoot, projectFile)), $"{name} points at {path}, which is no project of the repository");
            // The services serve http (health, the Api); the one-shot migration has no endpoint.
            if (name == "migrations") Assert.Null(resources[name]!["bindings"]);
            else Assert.Equal("http", (string?)resources[name]!["bindings"]!["http"]!["scheme"]);

            var referenced = AspireManifest.Placeholder().Matches(resources[name]!["env"]!.ToJsonString())
                .Select(m => m.Groups["resource"].Value)
                .Where(r => r != name && (string?)resources[r]!["type"] != "parameter.v0")
                .ToHashSet();
            var expected = LocalStackTests.ServicesUsed[name].ToHashSet();
            if (name is "producer" or "pipelines-events") expected.Add("schema-registry");
            // GET /quality reads each pipeline's report.
            if (name == "api") expected.UnionWith(["pipelines-profile", "pipelines-summary", "pipelines-events"]);
            Assert.True(expected.SetEquals(referenced), $"{name} references {string.Join(", ", referenced.Order())}, expected {string.Join(", ", expected.Order())}");
        }
        Assert.True((bool?)resources["api"]!["bindings"]!["http"]!["external"] == true, "the api is the one external endpoint");
        Assert.All(s_projects.Where(p => p is not ("api" or "migrations")), p => Assert.Null(resources[p]!["bindings"]!["http"]!["external"]));
    }

    private static string? Type(JsonObject resources, string name) => (string?)resources[name]?["type"];
}
