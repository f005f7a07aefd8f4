namespace DeepCluster.Core.Metrics;

/// <summary>
/// Average precision of a ranked list as the Oxford Buildings <c>compute_ap</c> program computes it (the binary the
/// published <c>eval_retrieval.py</c> calls): the relevant set is good ∪ ok, junk images are skipped (they neither count
/// nor take a rank), and the precision–recall curve is integrated with the trapezoidal rule starting from
/// (recall 0, precision 1): <c>ap += (r − r_prev) · (p_prev + p) / 2</c> at every non-junk position. Computed in
/// double precision (the C++ program uses float; results agree to float rounding).
/// </summary>
public static class RetrievalAveragePrecision
{
    /// <summary>The AP of <paramref name="ranking"/> (best first) for one query.</summary>
    /// <param name="relevant">good ∪ ok: the images that should be found.</param>
    /// <param name="junk">Images that are ignored wherever they are ranked.</param>
    /// <exception cref="ArgumentException">No relevant image (the C++ program divides by zero).</exception>
    public static double Compute<T>(IEnumerable<T> ranking, IReadOnlySet<T> relevant, IReadOnlySet<T> junk)
    {
        if (relevant.Count == 0) throw new ArgumentException("the query has no relevant (good or ok) image", nameof(relevant));
        double ap = 0, oldRecall = 0, oldPrecision = 1;
        long found = 0, rank = 0;
        foreach (var item in ranking)
        {
            if (junk.Contains(item)) continue;
            if (relevant.Contains(item)) found++;
            double recall = (double)found / relevant.Count, precision = found / (rank + 1.0);
            ap += (recall - oldRecall) * (oldPrecision + precision) / 2;
            oldRecall = recall;
            oldPrecision = precision;
            rank++;
        }
        return ap;
    }

    /// <summary>
    /// Database indices by decreasing score, ties in increasing index order (a stable sort; the published script's
    /// <c>np.argsort(sim)[::-1]</c> leaves ties to numpy's unstable quicksort).
    /// </summary>
    public static int[] Rank(ReadOnlySpan<float> scores)
    {
        var order = Enumerable.Range(0, scores.Length).ToArray();
        var keys = scores.ToArray();
        Array.Sort(order, (a, b) => keys[b].CompareTo(keys[a]) is var c && c != 0 ? c : a.CompareTo(b));
        return order;
    }

    /// <summary>The mean of per-query APs (mAP).</summary>
    public static double Mean(IEnumerable<double> aps)
    {
        var list = aps.ToList();
        if (list.Count == 0) throw new ArgumentException("no queries", nameof(aps));
        return list.Average();
    }
}
