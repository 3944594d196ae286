using Confluent.SchemaRegistry;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// Builds <see cref="WriterSchemas"/> from <c>Events:SchemaRegistry</c>: the consume loop's (one for the process) and
/// each replay of the malformed area's own, so a replay sees schemas registered after the loop cached an id as unknown.
/// </summary>
public static class WriterSchemaFactory
{
    public static WriterSchemas Create(SchemaRegistryOptions registry) =>
        new(registry.Url is { Length: > 0 } url
            ? new CachedSchemaRegistryClient(new SchemaRegistryConfig
            {
                Url = url,
                RequestTimeoutMs = (int)registry.RequestTimeout.TotalMilliseconds,
            })
            : null, registry.RequestTimeout);
}
