namespace DeepCluster.Core.Sampling;

/// <summary>
/// The published <c>UnifLabelSampler</c> (util.py): the same number of images from every non-empty cluster.
/// Seeded with <see cref="Random"/>; the stream differs from numpy's, the distribution is the same.
/// </summary>
public static class UnifLabelSampler
{
    /// <summary>
    /// <c>generate_indexes_epoch</c>: <c>int(n / non-empty) + 1</c> images per non-empty cluster (with replacement iff the
    /// cluster has at most that many), shuffled, then cut — or cycled — to exactly <paramref name="n"/>.
    /// </summary>
    public static int[] Indexes(int n, IReadOnlyList<IReadOnlyList<int>> imagesLists, long seed)
    {
        var nonEmpty = imagesLists.Count(l => l.Count > 0);
        if (nonEmpty == 0) throw new ArgumentException("every cluster is empty: nothing to sample.");
        var rng = new Random(unchecked((int)(seed ^ (seed >> 32))));
        int perCluster = n / nonEmpty + 1;
        var res = new List<int>(perCluster * nonEmpty);
        foreach (var images in imagesLists)
        {
            if (images.Count == 0) continue;
            if (images.Count <= perCluster)
                for (int j = 0; j < perCluster; j++) res.Add(images[rng.Next(images.Count)]);
            else
            {
                // Without replacement: a partial Fisher–Yates shuffle of a copy.
                var pool = images.ToArray();
                for (int j = 0; j < perCluster; j++)
                {
                    int r = j + rng.Next(pool.Length - j);
                    (pool[j], pool[r]) = (pool[r], pool[j]);
                    res.Add(pool[j]);
                }
            }
        }
        var all = res.ToArray();
        rng.Shuffle(all);
        if (all.Length >= n) return all[..n];
        return all.Concat(all.Take(n - all.Length)).ToArray();
    }
}
