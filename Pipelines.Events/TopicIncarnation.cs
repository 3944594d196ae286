using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// Which incarnation of the topic the consumer reads: Kafka's cluster id and topic id, each null when the broker does
/// not tell (old brokers, the mock cluster for topic ids). Together with the log end they tell a recreated topic or
/// another cluster from the one the lake's positions were recorded on.
/// </summary>
public sealed class TopicIncarnation(EventsConsumerFactory consumerFactory) : IDisposable
{
    private IAdminClient? _admin;

    public (string? TopicId, string? ClusterId) Lookup(IClient consumer, string topic, TimeSpan timeout)
    {
        string? clusterId = null;
        try
        {
            clusterId = consumer.ClusterId(timeout);
        }
        catch (KafkaException)
        {
            // unknown: only the log end then tells another incarnation
        }
        string? topicId = null;
        try
        {
            _admin ??= new AdminClientBuilder(new AdminClientConfig { BootstrapServers = consumerFactory.BootstrapServers }).Build();
            var described = _admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([topic]), new DescribeTopicsOptions { RequestTimeout = timeout })
                .WaitAsync(timeout).GetAwaiter().GetResult();
            var id = described.TopicDescriptions.SingleOrDefault(d => d.Name == topic)?.TopicId;
            if (id is not null && id.ToString() is { Length: > 0 } text && text != Guid.Empty.ToString() && !text.All(c => c is '0' or '-' or 'A')) topicId = text;
        }
        catch (Exception ex) when (ex is KafkaException or TimeoutException)
        {
            // unknown, as above
        }
        return (string.IsNullOrEmpty(clusterId) ? null : clusterId, topicId);
    }

    public void Dispose() => _admin?.Dispose();
}
