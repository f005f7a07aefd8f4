namespace DeepCluster.Core.Data;

/// <summary>
/// Some samples of another dataset, in the other dataset's order. It owns the other dataset (as
/// <see cref="DatasetSource.Open"/>'s <c>--limit</c> makes it): <see cref="Dispose"/> disposes it when it is
/// <see cref="IDisposable"/> (a pack's memory mapping).
/// </summary>
public sealed class SubsetDataset : IImageDataset, IDisposable
{
    readonly IImageDataset _inner;
    readonly int[] _indices;

    /// <summary>The samples <paramref name="indices"/> (ascending, distinct) of <paramref name="inner"/>.</summary>
    public SubsetDataset(IImageDataset inner, int[] indices)
    {
        for (int i = 0; i < indices.Length; i++)
            if ((uint)indices[i] >= (uint)inner.Count || (i > 0 && indices[i] <= indices[i - 1]))
                throw new ArgumentException("subset indices must be distinct, ascending and inside the dataset", nameof(indices));
        _inner = inner;
        _indices = indices;
        Labels = inner.Labels is { } l ? indices.Select(i => l[i]).ToArray() : null;
    }

    /// <summary>The dataset the samples are taken from.</summary>
    public IImageDataset Inner => _inner;
    /// <summary>The sample indices of the inner dataset, ascending.</summary>
    public IReadOnlyList<int> Indices => _indices;
    /// <inheritdoc/>
    public int Count => _indices.Length;
    /// <inheritdoc/>
    public IReadOnlyList<string> Classes => _inner.Classes;
    /// <inheritdoc/>
    public int[]? Labels { get; }
    /// <inheritdoc/>
    public IReadOnlyList<string> SkippedFiles => _inner.SkippedFiles;
    /// <inheritdoc/>
    public IReadOnlyList<string> SkipReasons => _inner.SkipReasons;
    /// <inheritdoc/>
    public RgbImage Load(int index) => _inner.Load(_indices[index]);
    /// <inheritdoc/>
    public bool TryReadJpeg(int index, ref byte[]? buffer, out int length) => _inner.TryReadJpeg(_indices[index], ref buffer, out length);
    /// <inheritdoc/>
    public string Describe(int index) => _inner.Describe(_indices[index]);

    /// <summary>Disposes the other dataset when it is <see cref="IDisposable"/>.</summary>
    public void Dispose() => (_inner as IDisposable)?.Dispose();

    /// <summary>
    /// A seeded, class-balanced sample of <paramref name="count"/> samples, in dataset order: every class gets
    /// <c>count / classes</c> samples (the remainder goes one each to classes picked at random), a class with fewer
    /// samples gives all it has and the others share what it lacks; within a class the samples are drawn uniformly
    /// without replacement. The same (dataset, count, seed) always gives the same sample. A dataset without labels
    /// gives a uniform sample.
    /// </summary>
    public static SubsetDataset ClassBalanced(IImageDataset inner, int count, long seed)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), "count must not be negative");
        count = Math.Min(count, inner.Count);
        var labels = inner.Labels ?? new int[inner.Count];
        var byClass = labels.Select((label, index) => (label, index)).GroupBy(x => x.label)
                            .OrderBy(g => g.Key).Select(g => g.Select(x => x.index).ToArray()).ToArray();
        var rng = new SampleRng((ulong)seed ^ 0x11A1_7E5EUL);
        var quota = new int[byClass.Length];
        for (int left = count; left > 0;)
        {
            var open = Enumerable.Range(0, byClass.Length).Where(c => quota[c] < byClass[c].Length).ToArray();
            int share = left / open.Length;
            if (share == 0)
            {
                Shuffle(open, rng);
                foreach (var c in open.Take(left)) quota[c]++;
                break;
            }
            foreach (var c in open)
            {
                var add = Math.Min(share, byClass[c].Length - quota[c]);
                quota[c] += add;
                left -= add;
            }
        }
        var chosen = new List<int>(count);
        for (int c = 0; c < byClass.Length; c++)
        {
            var members = byClass[c];
            // The first quota[c] places of a partial Fisher-Yates shuffle: a uniform sample without replacement.
            for (int i = 0; i < quota[c]; i++)
            {
                int j = rng.NextInt(i, members.Length);
                (members[i], members[j]) = (members[j], members[i]);
                chosen.Add(members[i]);
            }
        }
        chosen.Sort();
        return new SubsetDataset(inner, chosen.ToArray());
    }

    static void Shuffle(int[] a, SampleRng rng)
    {
        for (int i = a.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(0, i + 1);
            (a[i], a[j]) = (a[j], a[i]);
        }
    }
}
