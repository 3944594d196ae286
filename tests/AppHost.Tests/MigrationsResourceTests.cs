using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerData.AppHost.Tests;

/// <summary>The schema is applied once, by the migrations resource, and every service that reads MySQL or Cassandra waits for it to complete.</summary>
public sealed class MigrationsResourceTests
{
    [Theory]
    [InlineData("local")]
    [InlineData("containers")]
    public async Task Every_service_of_mysql_or_cassandra_waits_for_the_migration_to_complete_and_the_others_do_not(string mode)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>([$"Stack:Mode={mode}"], cancellationToken);
        await using var app = await builder.BuildAsync(cancellationToken);
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var migrations = Assert.IsType<ProjectResource>(model.Resources.Single(r => r.Name == "migrations"));

        Assert.True(StartupReport.IsOneShot(model, migrations));
        Assert.Empty(migrations.Annotations.OfType<EndpointAnnotation>());
        foreach (var (name, uses) in LocalStackTests.ServicesUsed.Where(kv => kv.Key != "migrations"))
        {
            var project = model.Resources.Single(r => r.Name == name);
            var waitsForMigration = project.Annotations.OfType<WaitAnnotation>()
                .Any(w => w.WaitType == WaitType.WaitForCompletion && ReferenceEquals(w.Resource, migrations));
            Assert.True(waitsForMigration == (uses.Contains("mysql") || uses.Contains("cassandra")), $"{name} waits for the migration: {waitsForMigration}");
            Assert.False(StartupReport.IsOneShot(model, project), $"{name} is a service, not a run-once job");
        }
        // The migration itself waits for the servers it writes to.
        var waitsFor = migrations.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).ToHashSet();
        Assert.Contains("mysql", waitsFor);
        Assert.Contains("cassandra", waitsFor);
        if (mode == "containers") Assert.Contains("cassandra-init", waitsFor);
    }
}
