using CustomerData.Lake;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// Makes sure the lake belongs to this consumer group (see <see cref="LakeIdentity"/>) before anything is consumed.
/// Another group's lake: refuse to run (health Unhealthy, the host stops) unless <see cref="EventsOptions.AdoptLake"/>,
/// which first copies the old group's committed offsets to this group and then records this group as the owner.
/// A lake that cannot be read is retried with the backoff (health Degraded meanwhile).
/// </summary>
internal sealed class LakeClaim(
    ILakeStorage lake,
    EventsOptions options,
    Func<string, IReadOnlyList<Confluent.Kafka.TopicPartitionOffset>> copyCommittedOffsets,
    IngestionState state,
    RetryBackoff backoff,
    WaitBounds bounds,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>True once the lake is this group's; false when the pipeline must not run (or is stopping).</summary>
    public bool TryClaim(CancellationToken stoppingToken)
    {
        var ours = new LakeIdentity(options.GroupId, options.Topic, time.GetUtcNow().UtcDateTime);
        for (var attempt = 0; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                var owner = LakeIdentity.ReadOrClaimAsync(lake, ours, stoppingToken).WaitAsync(bounds.WriteWait, time, stoppingToken).GetAwaiter().GetResult();
                if (owner.GroupId == options.GroupId)
                {
                    if (attempt > 0) state.Recover();
                    return true;
                }
                if (!options.AdoptLake || options.Topic.StartsWith('^'))
                {
                    state.Fail($"the events lake {lake.RootUri} belongs to consumer group '{owner.GroupId}' ({LakeIdentity.Key}), not '{options.GroupId}'; "
                        + $"this group would replay the topic and store events a second time. Set Events:GroupId back to '{owner.GroupId}', "
                        + "or Events:AdoptLake=true (plain topic only) to go on where that group stopped, after stopping its instances.");
                    logger.LogLakeOwnedByAnotherGroup(lake.RootUri, owner.GroupId, options.GroupId);
                    return false;
                }
                var copied = copyCommittedOffsets(owner.GroupId);
                lake.PublishAsync(LakeIdentity.Key, (ours with { AdoptedFrom = owner.GroupId }).ToJson(), stoppingToken).WaitAsync(bounds.WriteWait, time, stoppingToken).GetAwaiter().GetResult();
                logger.LogLakeAdopted(lake.RootUri, owner.GroupId, options.GroupId, string.Join(", ", copied.Select(c => $"{c.Partition.Value}@{c.Offset.Value}")));
                if (attempt > 0) state.Recover();
                return true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                state.Degrade("checking the lake's owning group failed: " + ex.Message);
                logger.LogLakeIdentityFailed(ex);
                stoppingToken.WaitHandle.WaitOne(backoff.Delay(attempt));
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return false;
    }
}
