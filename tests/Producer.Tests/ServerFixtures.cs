// The real servers this test assembly shares (tests/Shared/ServerFixtures.cs).
[assembly: AssemblyFixture(typeof(CustomerData.TestServers.Fixtures.MariaDbFixture))]
[assembly: AssemblyFixture(typeof(CustomerData.TestServers.Fixtures.KafkaFixture))]

