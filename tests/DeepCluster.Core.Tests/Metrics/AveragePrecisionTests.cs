using System.Globalization;
using DeepCluster.Core.Metrics;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.Metrics;

public class AveragePrecisionTests
{
    static HashSet<string> Set(params string[] s) => s.ToHashSet();

    [Fact]
    public void OxfordApSkipsJunkAndIntegratesTrapezoids()
    {
        // a, b, c relevant; j junk. Ranking a x j b y c, junk removed: a x b y c.
        // a: r 1/3 p 1 → (1/3)(1+1)/2; x: r unchanged; b: r 2/3 p 2/3 → (1/3)(1/2+2/3)/2; y: -; c: r 1 p 3/5 → (1/3)(1/2+3/5)/2
        var ap = RetrievalAveragePrecision.Compute(["a", "x", "j", "b", "y", "c"], Set("a", "b", "c"), Set("j"));
        Assert.Equal(1.0 / 3 + 7.0 / 36 + 11.0 / 60, ap, 12);   // 32/45
        // Junk counted as a negative would give another value: b at rank 4, c at rank 6.
        Assert.NotEqual(ap, RetrievalAveragePrecision.Compute(["a", "x", "j", "b", "y", "c"], Set("a", "b", "c"), Set()), 6);
        // The trapezoid starts at precision 1: a negative first makes the first step (0 + 1/2)/2.
        Assert.Equal(1.0 / 8 + 7.0 / 24, RetrievalAveragePrecision.Compute(["x", "a", "b"], Set("a", "b"), Set()), 12);
        Assert.Equal(1.0, RetrievalAveragePrecision.Compute(["a", "b", "x"], Set("a", "b"), Set("q")), 12);
        // A relevant image never ranked caps recall below 1.
        Assert.Equal(1.0 / 8, RetrievalAveragePrecision.Compute(["x", "a"], Set("a", "b"), Set()), 12);
        Assert.Throws<ArgumentException>(() => RetrievalAveragePrecision.Compute(["a"], Set(), Set()));
    }

    [Fact]
    public void RankingIsByDecreasingScoreTiesByIndexAndMapIsTheMean()
    {
        Assert.Equal(new[] { 1, 0, 2, 3 }, RetrievalAveragePrecision.Rank([0.5f, 0.9f, 0.5f, 0.1f]));
        Assert.Equal(0.5, RetrievalAveragePrecision.Mean([1.0, 0.25, 0.25]), 12);
    }

    [Fact]
    public void VocApExcludesDifficultAndTreatsTiesAsOneThreshold()
    {
        // Difficult (0) dropped: (0.9 P) (0.8 N, 0.8 P tied) (0.6 N) (0.5 P); P = 3.
        // 0.9: p 1 r 1/3; 0.8: p 2/3 r 2/3; 0.6: r unchanged; 0.5: p 3/5 r 1 → 1/3 + 2/9 + 1/5.
        Assert.Equal(34.0 / 45, ClassificationAveragePrecision.Compute([0.9f, 0.8f, 0.8f, 0.7f, 0.6f, 0.5f], [1, -1, 1, 0, -1, 1]), 12);
        // Three tied scores, two positive: one point (p 2/3, r 1), not 7/12 (negative first) nor 1 (positives first).
        Assert.Equal(2.0 / 3, ClassificationAveragePrecision.Compute([0.8f, 0.8f, 0.8f], [1, -1, 1]), 12);
        // The difficult image, with the highest score and counted as a negative, would lower the AP.
        Assert.Equal(1.0, ClassificationAveragePrecision.Compute([0.9f, 0.8f, 0.1f], [0, 1, -1]), 12);
        Assert.Equal(0.0, ClassificationAveragePrecision.Compute([0.9f, 0.8f], [-1, 0]), 12);   // no positive: sklearn's 0
        var (per, mean) = ClassificationAveragePrecision.ComputeAll([0.9f, 0.1f, 0.8f, 0.8f], [1, 1, -1, -1], classes: 2);
        Assert.Equal(new[] { 1.0, 0.5 }, per);   // class 1: 0.8 negative ranked above 0.1 positive → p 1/2 at r 1
        Assert.Equal(0.75, mean, 12);
    }

    [Fact]
    public void VocApMatchesScikitLearnWithDifficultMasked()
    {
        var rng = new Random(7);
        int n = 300, classes = 5;
        var scores = new float[n * classes];
        var labels = new int[n * classes];
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = MathF.Round((float)rng.NextDouble() * 20) / 20;   // many ties
            labels[i] = rng.Next(10) switch { 0 => 0, < 4 => 1, _ => -1 };
        }
        using var dir = new TempDir();
        File.WriteAllText(dir.File("s.txt"), string.Join(" ", scores.Select(s => s.ToString("R", CultureInfo.InvariantCulture))));
        File.WriteAllText(dir.File("l.txt"), string.Join(" ", labels));
        var py = PythonPeer.Run($$"""
            import sys, numpy as np
            from sklearn.metrics import average_precision_score
            d = sys.argv[1]
            s = np.array(open(d + '/s.txt').read().split(), dtype=np.float32).reshape(-1, {{classes}})
            l = np.array(open(d + '/l.txt').read().split(), dtype=np.int64).reshape(-1, {{classes}})
            aps = []
            for c in range({{classes}}):
                m = l[:, c] != 0
                aps.append(average_precision_score(l[m, c] > 0, s[m, c]))
            print(' '.join(repr(float(a)) for a in aps + [np.mean(aps)]))
            """, dir.Path).Trim().Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var (per, mean) = ClassificationAveragePrecision.ComputeAll(scores, labels, classes);
        for (int c = 0; c < classes; c++) Assert.Equal(py[c], per[c], 10);
        Assert.Equal(py[classes], mean, 10);
    }
}
