using System.Diagnostics;
using CustomerData.Contracts;
using CustomerData.Lake;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events;

// The lake claim: which consumer group owns the lake (see LakeIdentity).
public sealed partial class EventsIngestionService
{
    /// <summary>
    /// Makes sure the lake belongs to this consumer group (see <see cref="LakeIdentity"/>). Another group's lake:
    /// refuse to run (health Unhealthy, the host stops) unless <see cref="EventsOptions.AdoptLake"/>, which first
    /// copies the old group's committed offsets to this group and then records this group as the owner.
    /// </summary>
    private bool ClaimLake(CancellationToken stoppingToken)
    {
        var ours = new LakeIdentity(_options.GroupId, _options.Topic, DateTime.UtcNow);
        for (var attempt = 0; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                var owner = LakeIdentity.ReadOrClaimAsync(lake, ours, stoppingToken).WaitAsync(_writeWait, stoppingToken).GetAwaiter().GetResult();
                if (owner.GroupId == _options.GroupId)
                {
                    if (attempt > 0) state.Recover();
                    return true;
                }
                if (!_options.AdoptLake || _options.Topic.StartsWith('^'))
                {
                    state.Fail($"the events lake {lake.RootUri} belongs to consumer group '{owner.GroupId}' ({LakeIdentity.Key}), not '{_options.GroupId}'; "
                        + $"this group would replay the topic and store events a second time. Set Events:GroupId back to '{owner.GroupId}', "
                        + "or Events:AdoptLake=true (plain topic only) to go on where that group stopped, after stopping its instances.");
                    LogLakeOwnedByAnotherGroup(lake.RootUri, owner.GroupId, _options.GroupId);
                    lifetime.StopApplication();
                    return false;
                }
                var copied = consumerFactory.CopyCommittedOffsets(owner.GroupId, _options.Topic, TimeSpan.FromSeconds(10));
                lake.PublishAsync(LakeIdentity.Key, (ours with { AdoptedFrom = owner.GroupId }).ToJson(), stoppingToken).WaitAsync(_writeWait, stoppingToken).GetAwaiter().GetResult();
                LogLakeAdopted(lake.RootUri, owner.GroupId, _options.GroupId, string.Join(", ", copied.Select(c => $"{c.Partition.Value}@{c.Offset.Value}")));
                if (attempt > 0) state.Recover();
                return true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                state.Degrade("checking the lake's owning group failed: " + ex.Message);
                LogLakeIdentityFailed(ex);
                stoppingToken.WaitHandle.WaitOne(TimeSpan.FromTicks(Math.Min(_options.RetryMaxDelay.Ticks, _options.RetryInitialDelay.Ticks << Math.Min(attempt, 20))));
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return false;
    }
}
