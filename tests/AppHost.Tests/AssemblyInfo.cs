// Each test starts a whole AppHost (DCP, MariaDB, six .NET processes): run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
