namespace CustomerData.Pipelines.Profile;

/// <summary>
/// What a data-quality sample may say about personal values: their shape, never their content (no email or name in
/// logs, traces or metric labels). Samples are capped so a pathological value cannot flood a log line.
/// </summary>
public static class PersonalData
{
    public const int MaxSampleLength = 200;

    /// <summary>An email's shape: <c>&lt;email: 12 chars, no '@'&gt;</c>, enough to see why the format check failed.</summary>
    public static string DescribeEmail(string? email)
    {
        if (email is null) return "NULL";
        var at = email.IndexOf('@', StringComparison.Ordinal);
        var shape = at < 0 ? "no '@'"
            : email.IndexOf('@', at + 1) >= 0 ? "several '@'"
            : email.IndexOf('.', at + 1) < 0 ? "'@' but no '.' after it"
            : "'@' and a dot after it";
        if (email.Any(char.IsWhiteSpace)) shape += ", white space";
        return $"<email: {email.Length} chars, {shape}>";
    }

    /// <summary>Another personal value's shape (an invalid gender, say): its length only, <c>&lt;gender: 4 chars&gt;</c>.</summary>
    public static string DescribeValue(string field, string? value) => value is null ? "NULL" : $"<{field}: {value.Length} chars>";

    public static string Cap(string sample) => sample.Length <= MaxSampleLength ? sample : sample[..MaxSampleLength] + "…";
}
