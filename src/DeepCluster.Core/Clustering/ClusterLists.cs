using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>Conversions between per-point assignments and the published <c>images_lists</c>.</summary>
public static class ClusterLists
{
    /// <summary><c>images_lists</c>: for each of <paramref name="k"/> clusters the ascending indices of its points.</summary>
    public static List<List<int>> FromAssignments(ReadOnlySpan<long> assignments, int k)
    {
        var lists = new List<List<int>>(k);
        for (int c = 0; c < k; c++) lists.Add(new List<int>());
        for (int i = 0; i < assignments.Length; i++)
        {
            long c = assignments[i];
            if (c < 0 || c >= k) throw new ArgumentException($"assignment {c} of point {i} is outside 0..{k - 1}.", nameof(assignments));
            lists[(int)c].Add(i);
        }
        return lists;
    }

    /// <summary><c>images_lists</c> from an int64 assignment tensor on any device.</summary>
    public static List<List<int>> FromAssignments(Tensor assignments, int k)
    {
        using var cpu = assignments.to(ScalarType.Int64, CPU);
        return FromAssignments(cpu.data<long>().ToArray(), k);
    }

    /// <summary>
    /// The published <c>arrange_clustering</c>: the cluster index (position in <paramref name="imagesLists"/>)
    /// of every point 0..N-1, where N is the number of listed points. Every index must appear exactly once.
    /// </summary>
    public static long[] ArrangeClustering(IReadOnlyList<IReadOnlyList<int>> imagesLists)
    {
        int n = imagesLists.Sum(l => l.Count);
        var labels = new long[n];
        Array.Fill(labels, -1);
        for (int c = 0; c < imagesLists.Count; c++)
            foreach (var i in imagesLists[c])
            {
                if (i < 0 || i >= n || labels[i] != -1)
                    throw new ArgumentException($"images_lists is not a partition of 0..{n - 1} (index {i}).", nameof(imagesLists));
                labels[i] = c;
            }
        return labels;
    }
}
