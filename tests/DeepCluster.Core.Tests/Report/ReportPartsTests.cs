using System.Text.RegularExpressions;
using DeepCluster.Core.Data;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Report;
using DeepCluster.Core.Tests.Support;
using SkiaSharp;

namespace DeepCluster.Core.Tests.Report;

/// <summary>The parts of the report that need no training run: which clusters are shown, thumbnails, a folder without clusters.</summary>
public class ReportPartsTests
{
    [Fact]
    public void PicksTheLargestClustersThenOthersAtRandomTheSameEachTime()
    {
        // 12 clusters of sizes 0..11 (cluster c holds c images), indices 100c + i.
        var clusters = Enumerable.Range(0, 12).Select(c => Enumerable.Range(0, c).Select(i => 100 * c + i).ToArray()).ToArray();
        var picks = ClusterSamples.Pick(clusters, largest: 3, random: 4, perCluster: 5, seed: 31, epoch: 2);
        Assert.Equal([11, 10, 9], picks.Take(3).Select(p => p.Cluster));
        Assert.All(picks.Take(3), p => Assert.True(p.Largest));
        var drawn = picks.Skip(3).ToList();
        Assert.Equal(4, drawn.Count);
        Assert.All(drawn, p => { Assert.False(p.Largest); Assert.InRange(p.Cluster, 1, 8); });   // never the empty cluster 0
        Assert.Equal(drawn.Select(p => p.Cluster).Order(), drawn.Select(p => p.Cluster));
        foreach (var p in picks)
        {
            Assert.Equal(p.Cluster, p.Size);
            Assert.Equal(Math.Min(5, p.Size), p.Shown.Length);
            Assert.Equal(p.Shown.Order(), p.Shown);
            Assert.All(p.Shown, i => Assert.Contains(i, clusters[p.Cluster]));
        }
        // Seeded by the seed and the epoch: the same again, another epoch draws others.
        Assert.Equal(Describe(picks), Describe(ClusterSamples.Pick(clusters, 3, 4, 5, 31, 2)));
        var epochs = Enumerable.Range(3, 8).Select(e => Describe(ClusterSamples.Pick(clusters, 3, 4, 5, 31, e))).ToList();
        Assert.Contains(epochs, d => d != Describe(picks));
    }

    static string Describe(IReadOnlyList<ClusterPick> picks) =>
        string.Join(";", picks.Select(p => $"{p.Cluster}:{string.Join(",", p.Shown)}"));

    [Fact]
    public void ThumbnailsAreTheCentreSquareAtTheirSize()
    {
        // A 40x20 image with red bands at its left and right ends: the centre square (after resizing the shorter side to
        // 10: 20x10) is the white middle, the bands (and the bilinear filter's reach around them) left out.
        var image = new RgbImage(40, 20);
        for (var y = 0; y < 20; y++)
            for (var x = 0; x < 40; x++)
            {
                var o = (y * 40 + x) * 3;
                var red = x < 6 || x >= 34;
                image.Pixels[o] = 255; image.Pixels[o + 1] = red ? (byte)0 : (byte)255; image.Pixels[o + 2] = red ? (byte)0 : (byte)255;
            }
        var thumb = ClusterSamples.Thumbnail(image, 10);
        Assert.Equal((10, 10), (thumb.Width, thumb.Height));
        Assert.All(thumb.Pixels, b => Assert.Equal(255, b));
    }

    [Fact]
    public void AFolderWithoutClustersOrNmiGetsItsPlotsAndNotesSayingWhy()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.File("exp"));
        folder.CreateLayout();
        folder.WriteConfig(new TrainConfig { Data = dir.File("no-data"), Exp = ".", NmbCluster = 5 });
        Assert.Null(ExperimentReport.Write(folder).Notes.FirstOrDefault(n => n.Contains("clusters")));   // no epoch yet: no cluster note
        Assert.Contains("no epoch has finished yet", File.ReadAllText(folder.ReportPath));

        folder.WriteMetrics([new EpochMetrics { Epoch = 0, EpochSeconds = 3, FeaturesSeconds = 1, ClusteringSeconds = 1, TrainingSeconds = 0.5, ConvnetLoss = 4.6, ClusteringLoss = 9 }]);
        var result = ExperimentReport.Write(folder);
        Assert.Equal(["plot-convnet-loss", "plot-kmeans-loss", "plot-phase-times"], result.Plots.Select(p => p.Id));
        Assert.Empty(result.Clusters);
        Assert.Contains(result.Notes, n => n.StartsWith("NMI: none yet"));
        Assert.Contains(result.Notes, n => n == $"no sample images: {folder.ClustersPath} not found");
        var html = File.ReadAllText(folder.ReportPath);
        foreach (var plot in result.Plots)
        {
            using var bitmap = SKBitmap.Decode(plot.Png);
            Assert.Equal((ReportPlots.Width, ReportPlots.Height), (bitmap.Width, bitmap.Height));
            Assert.Contains($"id=\"{plot.Id}\"", html);
            Assert.Contains(plot.DataUri, html);
        }
        Assert.Equal(3, Regex.Matches(html, "<img ").Count);
    }
}
