using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// Which incarnation of the topics the consumer reads: Kafka's cluster id and topic ids, each null when the broker does
/// not tell (the mock cluster has no DescribeTopics). Together with the log end they tell a recreated topic or another
/// cluster from the one the lake's positions were recorded on.
/// </summary>
public sealed class TopicIncarnation(EventsConsumerFactory consumerFactory, TimeProvider time) : IDisposable
{
    // A broker that does not answer DescribeTopics is not asked again for a while: every assignment would wait for it.
    private static readonly TimeSpan s_unsupportedFor = TimeSpan.FromMinutes(10);
    private IAdminClient? _admin;
    private DateTimeOffset _askAgainAt;

    public (IReadOnlyDictionary<string, string> TopicIds, string? ClusterId) Lookup(IClient consumer, IReadOnlyCollection<string> topics, TimeSpan timeout)
    {
        string? clusterId = null;
        try
        {
            clusterId = consumer.ClusterId(timeout);
        }
        catch (KafkaException)
        {
            // unknown: only the log end and topic ids then tell another incarnation
        }
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        if (time.GetUtcNow() >= _askAgainAt)
        {
            try
            {
                _admin ??= new AdminClientBuilder(new AdminClientConfig { BootstrapServers = consumerFactory.BootstrapServers }).Build();
                var describeTimeout = timeout < TimeSpan.FromSeconds(3) ? timeout : TimeSpan.FromSeconds(3);
                var described = _admin.DescribeTopicsAsync(TopicCollection.OfTopicNames(topics), new DescribeTopicsOptions { RequestTimeout = describeTimeout })
                    .WaitAsync(describeTimeout + TimeSpan.FromSeconds(1)).GetAwaiter().GetResult();
                foreach (var d in described.TopicDescriptions)
                {
                    if (d.TopicId?.ToString() is { Length: > 0 } text && text.Any(c => c is not ('0' or '-' or 'A'))) ids[d.Name] = text;
                }
            }
            catch (Exception ex) when (ex is KafkaException or TimeoutException)
            {
                _askAgainAt = time.GetUtcNow() + s_unsupportedFor;
            }
        }
        return (ids, string.IsNullOrEmpty(clusterId) ? null : clusterId);
    }

    public void Dispose() => _admin?.Dispose();
}
