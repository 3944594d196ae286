namespace CustomerData.Contracts;

/// <summary>Default names of SPEC section 9; every one is configurable where it is used.</summary>
public static class PlatformNames
{
    public const string Database = "customer_db";
    public const string EventsTopic = "customer-events";
    public const string Keyspace = "customer_data";
    public const string LakeBucket = "lake";

    /// <summary>Connection-string names shared by the AppHost and every project.</summary>
    public static class Connections
    {
        public const string MySql = "customerdb";
        public const string Kafka = "kafka";
        public const string Cassandra = "cassandra";
        public const string Lake = "lake";
    }
}
