using System.Collections;

namespace CustomerData.Pipelines.Profile;

/// <summary>
/// An ascending list of txn_ids stored as runs of consecutive ids, so a delta of a million
/// contiguous ids costs one run instead of a million longs (the watermark only walks it).
/// </summary>
public sealed class TxnIdRuns : IReadOnlyList<long>
{
    private readonly List<(long First, long Last)> _runs = [];
    private readonly List<long> _startIndex = [];
    private long _count;

    public IReadOnlyList<(long First, long Last)> Runs => _runs;

    /// <summary>Appends ids <paramref name="first"/>..<paramref name="last"/>; must be above every id added before.</summary>
    public void AddRun(long first, long last)
    {
        if (last < first) throw new ArgumentException("A run ends before it starts.");
        if (_runs.Count > 0 && first <= _runs[^1].Last) throw new ArgumentException("Runs must be added in ascending order without overlap.");
        if (_runs.Count > 0 && first == _runs[^1].Last + 1)
        {
            _runs[^1] = (_runs[^1].First, last);
        }
        else
        {
            _runs.Add((first, last));
            _startIndex.Add(_count);
        }
        _count += last - first + 1;
    }

    public void Add(long id) => AddRun(id, id);

    public int Count => checked((int)_count);

    public long this[int index]
    {
        get
        {
            if (index < 0 || index >= _count) throw new ArgumentOutOfRangeException(nameof(index));
            var i = _startIndex.BinarySearch(index);
            if (i < 0) i = ~i - 1;
            return _runs[i].First + (index - _startIndex[i]);
        }
    }

    public IEnumerator<long> GetEnumerator()
    {
        foreach (var (first, last) in _runs)
        {
            for (var id = first; id <= last; id++) yield return id;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
