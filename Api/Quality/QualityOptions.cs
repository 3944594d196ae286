using System.ComponentModel.DataAnnotations;

namespace CustomerData.Api.Quality;

/// <summary>Where the platform's <c>GET /quality</c> asks each pipeline for its report, bound from <c>Quality</c> and validated at start.</summary>
public sealed class QualityOptions : IValidatableObject
{
    public const string SectionName = "Quality";

    /// <summary>
    /// Pipeline name → base address, whose <c>/quality</c> is read: <c>Quality__Sources__pipelines-profile=http://pipelines-profile</c>
    /// (an Aspire service-discovery name, as the AppHost sets it) or any absolute http(s) address.
    /// </summary>
    public Dictionary<string, string> Sources { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long one pipeline may take to answer before it is reported <c>unreachable</c> (the pipelines are asked at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:30")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, address) in Sources)
        {
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return new ValidationResult($"Quality:Sources:{name} must be an absolute http(s) address, not '{address}'.", [nameof(Sources)]);
            }
        }
    }
}
