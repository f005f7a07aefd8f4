using DeepCluster.Core.Sampling;

namespace DeepCluster.Core.Tests.Sampling;

public class SamplingTests
{
    static List<IReadOnlyList<int>> Lists(params int[] sizes)
    {
        var lists = new List<IReadOnlyList<int>>();
        int next = 0;
        foreach (var s in sizes) { lists.Add(Enumerable.Range(next, s).ToList()); next += s; }
        return lists;
    }

    [Fact]
    public void DrawsUniformlyAcrossNonEmptyClusters()
    {
        var lists = Lists(500, 3, 0, 120, 77, 0, 300);                 // 1000 points, 5 non-empty clusters
        var sampler = new UnifLabelSampler(1000, lists, seed: 1);
        Assert.Equal(1000, sampler.Indexes.Count);
        Assert.All(sampler.Indexes, i => Assert.InRange(i, 0, 999));
        var labels = new PseudoLabels(lists, 1000);
        var perLabel = sampler.Indexes.GroupBy(i => labels[i]).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(5, perLabel.Count);
        // size_per_pseudolabel = 1000 / 5 + 1 = 201 each; cutting 1005 to 1000 removes at most 5.
        Assert.All(perLabel.Values, c => Assert.InRange(c, 196, 201));
        // Clusters bigger than 201 are drawn without replacement.
        var fromBig = sampler.Indexes.Where(i => i < 500).ToList();
        Assert.Equal(fromBig.Count, fromBig.Distinct().Count());
    }

    [Fact]
    public void IsSeededAndChecksItsInput()
    {
        var lists = Lists(10, 20, 30);
        Assert.Equal(new UnifLabelSampler(60, lists, 3).Indexes, new UnifLabelSampler(60, lists, 3).Indexes);
        Assert.NotEqual(new UnifLabelSampler(60, lists, 3).Indexes, new UnifLabelSampler(60, lists, 4).Indexes);
        Assert.Throws<ArgumentException>(() => new UnifLabelSampler(5, Lists(0, 0), 1));
    }

    [Fact]
    public void PseudoLabelsAreRanksAmongNonEmptyClusters()
    {
        var labels = new PseudoLabels(new List<IReadOnlyList<int>> { new[] { 4, 1 }, Array.Empty<int>(), new[] { 0 }, new[] { 2, 3 } }, 6);
        Assert.Equal(new[] { 1, 0, 2, 2, 0, -1 }, labels.All);
        Assert.Equal(4, labels.NumClasses);
        Assert.Equal(3, labels.NumUsed);
        Assert.Throws<ArgumentException>(() => new PseudoLabels(new List<IReadOnlyList<int>> { new[] { 1 }, new[] { 1 } }, 3));
    }
}
