namespace DeepCluster.Actors.Features;

/// <summary>How the feature pass splits the dataset into the ranges its workers compute.</summary>
public static class FeatureRanges
{
    /// <summary>
    /// The images per range: <paramref name="rangeImages"/> (<c>deepcluster.features.range-images</c>) rounded up to whole
    /// batches, so that every batch of a range is a batch a single pass over the dataset would make.
    /// </summary>
    public static int Size(int rangeImages, int batchSize)
    {
        if (rangeImages < 1 || batchSize < 1) throw new ArgumentOutOfRangeException(nameof(rangeImages), "range and batch sizes must be positive");
        return (int)Math.Min(int.MaxValue / 2, ((long)rangeImages + batchSize - 1) / batchSize * batchSize);
    }

    /// <summary>
    /// The ranges (start, count) that cover images 0 .. <paramref name="count"/>-1 except those of <paramref name="done"/>
    /// (ascending, disjoint), in order: cut at the multiples of <paramref name="size"/>, so a resumed pass cuts where
    /// the first did.
    /// </summary>
    public static List<(int Start, int Count)> Plan(int count, int size, IEnumerable<(int Start, int Count)> done)
    {
        var ranges = new List<(int, int)>();
        var at = 0;
        foreach (var (start, n) in done.Append((count, 0)))
        {
            for (var a = at; a < start;)
            {
                var end = (int)Math.Min(start, ((long)a / size + 1) * size);
                ranges.Add((a, end - a));
                a = end;
            }
            at = Math.Max(at, start + n);
        }
        return ranges;
    }

    /// <summary>
    /// Of the ranges a resumed pass was given, those it can use: inside the dataset, not empty, not overlapping one
    /// kept before, with an intact file (<paramref name="problem"/> returns null). Ascending by start.
    /// </summary>
    public static List<FeatureRangeFile> Usable(IEnumerable<FeatureRangeFile> done, int count, Func<FeatureRangeFile, string?> problem)
    {
        var kept = new List<FeatureRangeFile>();
        var end = 0;
        foreach (var r in done.OrderBy(r => r.Start))
        {
            if (r.Count < 1 || r.Start < end || (long)r.Start + r.Count > count || problem(r) is not null) continue;
            kept.Add(r);
            end = r.End;
        }
        return kept;
    }
}
