[assembly: AssemblyFixture(typeof(CustomerData.TestServers.Fixtures.S3rverFixture))]
