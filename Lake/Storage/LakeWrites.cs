namespace CustomerData.Lake;

internal static class LakeWrites
{
    /// <summary>Two writes of one key in a batch would race (which one wins?): refuse them.</summary>
    public static void EnsureDistinctKeys(IReadOnlyList<LakeWrite> writes)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var write in writes)
        {
            if (!keys.Add(write.Key)) throw new ArgumentException($"Lake key '{write.Key}' appears twice in one publish.", nameof(writes));
        }
    }
}
