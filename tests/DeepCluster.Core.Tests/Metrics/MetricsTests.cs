using System.Globalization;
using DeepCluster.Core.Metrics;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.Metrics;

public class MetricsTests
{
    [Fact]
    public void NmiHandComputedExamples()
    {
        Assert.Equal(1.0, NormalizedMutualInfo.Score(new long[] { 0, 0, 1, 1 }, new long[] { 5, 5, 2, 2 }), 12);
        Assert.Equal(0.0, NormalizedMutualInfo.Score(new long[] { 0, 0, 1, 1 }, new long[] { 0, 1, 0, 1 }), 12);
        Assert.Equal(1.0, NormalizedMutualInfo.Score(new long[] { 3, 3, 3 }, new long[] { 1, 1, 1 }), 12);
        Assert.Equal(0.0, NormalizedMutualInfo.Score(new long[] { 0, 0, 1, 1 }, new long[] { 0, 0, 0, 0 }), 12);
        // true {0,0,1,1}, pred {0,0,0,1}: MI = ln2 - 3/4 ln3 + ... computed by hand:
        // H(true) = ln 2; H(pred) = -(3/4 ln 3/4 + 1/4 ln 1/4); MI = 1/2 ln 2 + 1/4 ln(1/(3/4·1/2)·1/4)... use the identity MI = H(true) - H(true|pred)
        double hTrue = Math.Log(2), hPred = -(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25));
        double hTrueGivenPred = 0.75 * -(2.0 / 3 * Math.Log(2.0 / 3) + 1.0 / 3 * Math.Log(1.0 / 3));
        double expected = (hTrue - hTrueGivenPred) / ((hTrue + hPred) / 2);
        Assert.Equal(expected, NormalizedMutualInfo.Score(new long[] { 0, 0, 1, 1 }, new long[] { 0, 0, 0, 1 }), 12);
    }

    [Fact]
    public void AccuracyHandComputedExamples()
    {
        Assert.Equal(1.0, ClusteringAccuracy.Score(new long[] { 0, 0, 1, 1, 2 }, new long[] { 2, 2, 0, 0, 1 }));
        Assert.Equal(0.8, ClusteringAccuracy.Score(new long[] { 0, 0, 1, 1, 2 }, new long[] { 1, 1, 0, 0, 0 }), 12);
        // More clusters than classes: only one cluster per class counts.
        Assert.Equal(0.5, ClusteringAccuracy.Score(new long[] { 0, 0, 0, 0 }, new long[] { 0, 0, 1, 2 }), 12);
        Assert.Equal(new[] { 2, 0, 1 }, Hungarian.Solve(new double[,] { { 4, 2, 1 }, { 1, 5, 6 }, { 3, 1, 7 } }));
    }

    [Fact]
    public void HungarianMatchesBruteForce()
    {
        var rng = new Random(4);
        for (int trial = 0; trial < 30; trial++)
        {
            int n = rng.Next(1, 6), m = n + rng.Next(0, 3);
            var cost = new double[n, m];
            for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) cost[i, j] = rng.Next(0, 20);
            var match = Hungarian.Solve(cost);
            Assert.Equal(n, match.Distinct().Count());
            double best = Permutations(Enumerable.Range(0, m).ToArray(), n).Min(p => p.Select((j, i) => cost[i, j]).Sum());
            Assert.Equal(best, match.Select((j, i) => cost[i, j]).Sum());
        }
    }

    static IEnumerable<int[]> Permutations(int[] items, int length) =>
        length == 0 ? new[] { Array.Empty<int>() }
                    : items.SelectMany(x => Permutations(items.Where(y => y != x).ToArray(), length - 1).Select(rest => rest.Prepend(x).ToArray()));

    [Fact]
    public void AgreeWithSklearnOnRandomLabelings()
    {
        var rng = new Random(9);
        var cases = Enumerable.Range(0, 12).Select(t =>
        {
            int n = rng.Next(1, 300), ka = rng.Next(1, 12), kb = rng.Next(1, 12);
            return (Enumerable.Range(0, n).Select(_ => (long)rng.Next(ka) * 3 - 4).ToArray(),
                    Enumerable.Range(0, n).Select(_ => (long)rng.Next(kb)).ToArray());
        }).ToList();
        var input = string.Join("\n", cases.Select(c => string.Join(",", c.Item1) + ";" + string.Join(",", c.Item2)));
        var output = PythonPeer.Run("""
            import sys, numpy as np
            from sklearn.metrics import normalized_mutual_info_score
            from scipy.optimize import linear_sum_assignment
            for line in open(sys.argv[1]).read().strip().split("\n"):
                a, b = (np.array([int(v) for v in part.split(",")]) for part in line.split(";"))
                _, ai = np.unique(a, return_inverse=True); _, bi = np.unique(b, return_inverse=True)
                d = max(ai.max(), bi.max()) + 1
                w = np.zeros((d, d), dtype=np.int64)
                for p, t in zip(bi, ai): w[p, t] += 1
                r, c = linear_sum_assignment(-w)
                print(repr(normalized_mutual_info_score(a, b)), repr(w[r, c].sum() / len(a)))
            """, WriteTemp(input));
        var lines = output.Trim().Split('\n');
        Assert.Equal(cases.Count, lines.Length);
        for (int i = 0; i < cases.Count; i++)
        {
            var parts = lines[i].Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(parts[0], NormalizedMutualInfo.Score(cases[i].Item1, cases[i].Item2), 9);
            Assert.Equal(parts[1], ClusteringAccuracy.Score(cases[i].Item1, cases[i].Item2), 12);
        }
    }

    static string WriteTemp(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"dc-metrics-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, text);
        return path;
    }
}
