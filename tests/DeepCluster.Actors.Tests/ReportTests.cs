using System.Text.Json;
using System.Text.RegularExpressions;
using DeepCluster.Core.Data;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.IO;
using DeepCluster.Core.Report;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// <c>report.html</c>: written by a real run after each epoch, rewritten by <c>deepcluster report EXP</c>; its PNGs decode
/// at the sizes the page declares, its plots are not blank, its sample images are the pictures of the clusters the log
/// names; bad input is one line and exit 2; a report that cannot be written does not stop training.
/// </summary>
[Collection("reported experiment")]
public class ReportTests(ReportedExperiment run)
{
    static readonly string[] PlotIds = ["plot-convnet-loss", "plot-kmeans-loss", "plot-nmi", "plot-phase-times"];

    [Fact]
    public void TheRunWritesAReportWithItsPlotsAndTheLastEpochsClusters()
    {
        var folder = new ExperimentFolder(run.Folder);
        Assert.True(File.Exists(folder.ReportPath), run.Output);
        var html = File.ReadAllText(folder.ReportPath);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("Clusters of epoch 1", html);   // the last epoch's: written after the second epoch
        var images = ReportedExperiment.Images(html);

        // The plots: ConvNet loss, k-means objective, NMI (previous epoch and labels), phase times; none blank.
        Assert.Equal(PlotIds, images.Take(4).Select(i => i.Id));
        foreach (var plot in images.Take(4))
        {
            Assert.Equal((ReportPlots.Width, ReportPlots.Height), (plot.Width, plot.Height));
            Assert.True(ReportedExperiment.Colours(plot.Bitmap) > 20, $"{plot.Id}: blank");
        }

        // The clusters: the 8 largest of the last epoch (sizes as the clusters log says, largest first), then 2 at random of
        // the other (k = 10) non-empty ones.
        var last = ClustersLog.Read(folder.ClustersPath)[^1];
        var rows = images.Skip(4).ToList();
        var nonEmpty = last.Count(c => c.Length > 0);
        Assert.Equal(Math.Min(8, nonEmpty) + Math.Min(8, Math.Max(0, nonEmpty - 8)), rows.Count);
        var sizes = Regex.Matches(html, @"<tr><th>cluster (\d+)</th><td>(\d+) images?").Select(m => (Cluster: int.Parse(m.Groups[1].Value), Size: int.Parse(m.Groups[2].Value))).ToList();
        Assert.Equal(rows.Select(r => r.Id), sizes.Select(s => $"cluster-{s.Cluster}"));
        foreach (var (cluster, size) in sizes) Assert.Equal(last[cluster].Length, size);
        Assert.Equal(last.Select(c => c.Length).Where(n => n > 0).OrderDescending().Take(8), sizes.Take(8).Select(s => s.Size));
        Assert.Contains("majority label ", html);   // Fashion-MNIST has labels

        // Each row: the cluster's images, picked as ClusterSamples picks them (seeded by --seed and the epoch), as thumbnails.
        var config = folder.ReadConfig()!;
        var dataset = DatasetSource.Open(config.Data, config.DataFormat, config.Split, config.Limit);
        var picks = ClusterSamples.Pick(last, 8, 8, 8, config.Seed, 1);
        Assert.Equal(picks.Select(p => $"cluster-{p.Cluster}"), rows.Select(r => r.Id));
        foreach (var (pick, row) in picks.Zip(rows))
        {
            Assert.All(pick.Shown, i => Assert.Contains(i, last[pick.Cluster]));
            Assert.Equal(Math.Min(8, last[pick.Cluster].Length), pick.Shown.Length);
            var expected = ClusterSamples.Strip(dataset, pick.Shown, 64);
            Assert.Equal((expected.Width, 64), (row.Width, row.Height));
            var pixels = ImageCodec.Decode(row.Png, row.Id).Pixels;
            Assert.True(expected.Pixels.AsSpan().SequenceEqual(pixels), $"{row.Id}: not the cluster's images");
        }
    }

    [Fact]
    public void TheReportCommandWritesTheSamePage()
    {
        using var dir = new TempDir();
        var copy = run.CopyTo(dir);
        var folder = new ExperimentFolder(copy);
        File.Delete(folder.ReportPath);
        var (code, output) = FinishedExperiment.Run("report", copy);
        Assert.True(code == 0, output);
        Assert.Contains($"{folder.ReportPath}: 2 epoch(s), 4 plots, {run.ClusterRows} clusters shown", output);
        Assert.DoesNotContain("warning", output);
        var again = ReportedExperiment.Images(File.ReadAllText(folder.ReportPath));
        var during = ReportedExperiment.Images(File.ReadAllText(Path.Combine(run.Folder, ExperimentReport.FileName)));
        Assert.Equal(during.Select(i => (i.Id, Convert.ToBase64String(i.Png))), again.Select(i => (i.Id, Convert.ToBase64String(i.Png))));
    }

    [Fact]
    public void WithoutItsDatasetTheReportKeepsThePlotsAndSaysWhy()
    {
        using var dir = new TempDir();
        var copy = run.CopyTo(dir);
        var folder = new ExperimentFolder(copy);
        var moved = dir.File("moved-away");
        folder.WriteConfig(folder.ReadConfig()! with { Data = moved });
        var (code, output) = FinishedExperiment.Run("report", copy);
        Assert.True(code == 0, output);
        Assert.Contains($"deepcluster: warning: no sample images: the dataset could not be opened ({moved}", output);
        var html = File.ReadAllText(folder.ReportPath);
        Assert.Equal(PlotIds, ReportedExperiment.Images(html).Select(i => i.Id));
        Assert.Contains("no sample images: the dataset could not be opened", html);
    }

    [Fact]
    public void WhatIsNotAnExperimentIsOneLineAndExit2()
    {
        using var dir = new TempDir();
        var empty = dir.File("empty");
        Directory.CreateDirectory(empty);
        Expect2(["report", empty], $"deepcluster: {empty}: not an experiment folder (no config.json");
        Assert.Empty(Directory.GetFileSystemEntries(empty));   // nothing written
        Expect2(["report", dir.File("missing")], $"deepcluster: {dir.File("missing")}: experiment folder not found");
        File.WriteAllText(dir.File("file"), "x");
        Expect2(["report", dir.File("file")], $"deepcluster: {dir.File("file")}: a file, not an experiment folder");

        var copy = run.CopyTo(dir);
        var folder = new ExperimentFolder(copy);
        File.AppendAllText(folder.MetricsPath, "{\"epoch\": \"two\"}\n");
        File.Delete(folder.ReportPath);
        Expect2(["report", copy], $"deepcluster: {folder.MetricsPath}: line 3 is not an epoch's metrics");
        Assert.False(File.Exists(folder.ReportPath));
        File.WriteAllText(folder.ConfigPath, "{ not json");
        Expect2(["report", copy], $"deepcluster: {folder.ConfigPath}: not a DeepCluster experiment configuration");
    }

    static void Expect2(string[] args, string line)
    {
        var (code, output) = FinishedExperiment.Run(args);
        Assert.True(code == 2, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.StartsWith(line, Assert.Single(lines));
    }

    [Fact]
    public void AReportThatCannotBeWrittenDoesNotStopTraining()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        Directory.CreateDirectory(Path.Combine(exp, ExperimentReport.FileName));   // a folder where the page would go
        var (code, output) = FinishedExperiment.Run(ReportedExperiment.Args(exp).Select(a => a == "2" ? "1" : a).ToArray());
        Assert.True(code == 0, output);
        Assert.Single(new ExperimentFolder(exp).ReadMetrics());
        Assert.Contains($"{Path.Combine(exp, ExperimentReport.FileName)}: not written (", output);
        Assert.Contains("training goes on", File.ReadAllText(new ExperimentFolder(exp).LogPath));
    }
}
