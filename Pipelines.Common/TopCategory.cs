namespace CustomerData.Pipelines;

/// <summary>SPEC §9's rule for <c>top_category</c> (B) and <c>favorite_category</c> (A), written once.</summary>
public static class TopCategory
{
    /// <summary>No category (NULL or empty, or no such product) counts as this.</summary>
    public const string Unknown = "Unknown";

    /// <summary>Does <paramref name="category"/> with <paramref name="count"/> rows beat the best so far? Most rows wins; a tie goes to the ordinal-first name.</summary>
    public static bool Beats(string category, long count, string? best, long bestCount) =>
        count > bestCount || (count == bestCount && string.CompareOrdinal(category, best) < 0);
}
