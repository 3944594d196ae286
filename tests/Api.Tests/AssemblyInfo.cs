[assembly: AssemblyFixture(typeof(CustomerData.TestServers.Fixtures.S3rverFixture))]

namespace CustomerData.Api.Tests
{
    internal static class TestHostDefaults
    {
        /// <summary>
        /// Many API hosts start in one test run; each would watch its settings files for changes, and inotify instances
        /// are limited per user (128 by default). The tests never change settings files.
        /// </summary>
        [System.Runtime.CompilerServices.ModuleInitializer]
        internal static void NoSettingsFileWatching() =>
            Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
    }
}
