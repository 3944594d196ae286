namespace CustomerData.Bench.Faults;

/// <summary>One row of the report: what was done, what /health showed, how long until caught up, and the output check.</summary>
public sealed record FaultResult(string Scenario, string Fault, string Health, string Recovery, string Output, bool Passed);
