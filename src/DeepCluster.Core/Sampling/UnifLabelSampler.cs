namespace DeepCluster.Core.Sampling;

/// <summary>
/// The published <c>util.UnifLabelSampler</c>: an epoch's list of N dataset indices drawn uniformly across
/// pseudo-labels. Each non-empty cluster contributes size_per_pseudolabel = int(N / non-empty clusters) + 1
/// indices, drawn with replacement when the cluster has at most that many points and without replacement
/// otherwise (<c>np.random.choice</c> semantics, <c>replace = len &lt;= size</c>); the concatenation is
/// shuffled and cut to N. Random draws come from <see cref="Random"/> with the given seed, so the
/// sequence is reproducible but differs from numpy's.
/// </summary>
public sealed class UnifLabelSampler
{
    /// <summary>The epoch's indices, length N.</summary>
    public IReadOnlyList<int> Indexes { get; }

    /// <summary>Number of indices per epoch.</summary>
    public int N { get; }

    /// <summary>Draws the epoch's indices.</summary>
    /// <param name="n">Indices to return (the published main.py passes int(reassign × len(dataset))).</param>
    /// <param name="imagesLists">For each cluster the dataset indices in it; empty clusters are skipped.</param>
    /// <param name="seed">Seed of the draws.</param>
    public UnifLabelSampler(int n, IReadOnlyList<IReadOnlyList<int>> imagesLists, int seed)
    {
        if (n < 0) throw new ArgumentException($"N = {n} must not be negative.", nameof(n));
        N = n;
        Indexes = GenerateIndexesEpoch(n, imagesLists, new Random(seed));
    }

    static int[] GenerateIndexesEpoch(int n, IReadOnlyList<IReadOnlyList<int>> imagesLists, Random rng)
    {
        var nonEmpty = imagesLists.Where(l => l.Count > 0).ToList();
        if (nonEmpty.Count == 0)
            throw new ArgumentException("all clusters are empty: nothing to sample.", nameof(imagesLists));
        int sizePerPseudolabel = n / nonEmpty.Count + 1;
        var res = new List<int>(sizePerPseudolabel * nonEmpty.Count);
        foreach (var cluster in nonEmpty)
        {
            if (cluster.Count <= sizePerPseudolabel)
                for (int t = 0; t < sizePerPseudolabel; t++) res.Add(cluster[rng.Next(cluster.Count)]);
            else
            {
                var pool = cluster.ToArray();                     // partial Fisher–Yates: distinct draws
                for (int t = 0; t < sizePerPseudolabel; t++)
                {
                    int j = t + rng.Next(pool.Length - t);
                    (pool[t], pool[j]) = (pool[j], pool[t]);
                    res.Add(pool[t]);
                }
            }
        }
        var all = res.ToArray();
        rng.Shuffle(all);
        return all.AsSpan(0, Math.Min(n, all.Length)).ToArray();   // non-empty × (N/non-empty + 1) > N always
    }
}
