using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Traces start at an operation of ours (a request, a pipeline cycle or batch, a producer send); a client call made
/// outside any (a health probe's MySQL ping, a CQL heartbeat, a lake read at start-up) would be a root trace of one
/// span each, and thousands of them bury the operations in the dashboard: those are not recorded. Below a root the
/// parent decides, as OpenTelemetry's default <see cref="ParentBasedSampler"/> does.
/// </summary>
public sealed class OperationRootSampler : Sampler
{
    private static readonly Sampler s_parentBased = new ParentBasedSampler(new RootSampler());

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        s_parentBased.ShouldSample(samplingParameters);

    private sealed class RootSampler : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
            samplingParameters.Kind == ActivityKind.Client
                ? new SamplingResult(SamplingDecision.Drop)
                : new SamplingResult(SamplingDecision.RecordAndSample);
    }
}
