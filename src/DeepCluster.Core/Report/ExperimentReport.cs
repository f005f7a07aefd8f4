using System.Diagnostics;
using System.Text;
using System.Text.Json;
using DeepCluster.Core.Data;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.IO;

namespace DeepCluster.Core.Report;

/// <summary>
/// <c>report.html</c> of an experiment folder: one self-contained page (every picture inlined as a <c>data:</c> PNG, no
/// other file, so it can be mailed, served by the host's API or opened from disk) with the plots of
/// <c>metrics.jsonl</c> (<see cref="ReportPlots"/>) and, for the last finished epoch, rows of sample images from its
/// largest clusters and from clusters drawn at random (<see cref="ClusterSamples"/>, read from the <c>clusters</c> log
/// and the experiment's dataset). Written atomically; a part that cannot be drawn (dataset moved, clusters log
/// damaged) is replaced by a note saying why, and the rest is written.
/// </summary>
public static class ExperimentReport
{
    /// <summary>The page's name in the experiment folder.</summary>
    public const string FileName = "report.html";

    /// <summary>
    /// The experiment folder at <paramref name="path"/>; <see cref="DirectoryNotFoundException"/> or
    /// <see cref="InvalidDataException"/> naming the path when it is not one (no folder, no <c>config.json</c>).
    /// </summary>
    public static ExperimentFolder OpenFolder(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("EXP: no experiment folder given.");
        if (File.Exists(path)) throw new InvalidDataException($"{path}: a file, not an experiment folder (give the --exp folder of a train run).");
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: experiment folder not found.");
        var folder = new ExperimentFolder(path);
        if (!folder.HasConfig)
            throw new InvalidDataException($"{path}: not an experiment folder (no config.json; give the --exp folder of a train run).");
        return folder;
    }

    /// <summary>
    /// Renders the page of <paramref name="folder"/> and writes it to <c>report.html</c> there. Throws (naming the file) only
    /// when the folder's <c>config.json</c> or <c>metrics.jsonl</c> cannot be read; everything else becomes a note.
    /// </summary>
    /// <param name="datasets">Keeps the dataset open between calls (a run renders every epoch); null: opened for this call.</param>
    /// <param name="lastEpoch">The last finished epoch's cluster lists when the caller holds them (a run, which has just
    /// written them to the <c>clusters</c> log): the log, which holds every epoch, is then not read again.</param>
    public static ReportResult Write(ExperimentFolder folder, ReportDatasets? datasets = null, ReportOptions? options = null,
                                     EpochClusters? lastEpoch = null)
    {
        var clock = Stopwatch.StartNew();
        options ??= ReportOptions.Default;
        var config = folder.ReadConfig() ?? throw new InvalidDataException($"{folder.Root}: not an experiment folder (no config.json).");
        var metrics = ReadMetrics(folder);
        var notes = new List<string>();
        var plots = ReportPlots.Render(metrics);
        if (ReportPlots.Missing(metrics) is { } missing) notes.Add(missing);
        var own = datasets is null ? new ReportDatasets() : null;
        IReadOnlyList<ClusterRow> rows;
        try { rows = metrics.Count == 0 ? [] : Clusters(folder, config, metrics, lastEpoch, datasets ?? own!, options, notes); }
        finally { own?.Dispose(); }
        var html = ReportPage.Html(folder, config, metrics, plots, rows, notes);
        var path = folder.ReportPath;
        AtomicFile.Write(path, s => s.Write(Encoding.UTF8.GetBytes(html)));
        return new ReportResult(path, metrics.Count, plots, rows.Select(r => r.Strip).ToList(), notes, clock.Elapsed);
    }

    /// <summary>The report of <paramref name="folder"/>, rendered first when it is missing or older than <c>metrics.jsonl</c>.</summary>
    public static string Current(ExperimentFolder folder, ReportDatasets? datasets = null)
    {
        var path = folder.ReportPath;
        if (!File.Exists(path) || File.GetLastWriteTimeUtc(path) < File.GetLastWriteTimeUtc(folder.MetricsPath)) Write(folder, datasets);
        return path;
    }

    /// <summary><c>metrics.jsonl</c>, a line that is not an epoch's metrics named by number.</summary>
    static IReadOnlyList<EpochMetrics> ReadMetrics(ExperimentFolder folder)
    {
        if (!File.Exists(folder.MetricsPath)) return [];
        var epochs = new List<EpochMetrics>();
        var n = 0;
        foreach (var line in File.ReadLines(folder.MetricsPath))
        {
            n++;
            if (line.Length == 0) continue;
            try { epochs.Add(JsonSerializer.Deserialize<EpochMetrics>(line, ExperimentFolder.MetricsJson) ?? throw new JsonException("null")); }
            catch (JsonException e) { throw new InvalidDataException($"{folder.MetricsPath}: line {n} is not an epoch's metrics ({e.Message})."); }
        }
        return epochs;
    }

    /// <summary>The last epoch of the <c>clusters</c> log, or null with a note saying why there is none.</summary>
    static EpochClusters? LastLogged(ExperimentFolder folder, IReadOnlyList<EpochMetrics> metrics, List<string> notes)
    {
        int[][][] log;
        try
        {
            if (!File.Exists(folder.ClustersPath)) { notes.Add($"no sample images: {folder.ClustersPath} not found"); return null; }
            log = ClustersLog.Read(folder.ClustersPath);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            notes.Add($"no sample images: {e.Message}");
            return null;
        }
        if (log.Length == 0) { notes.Add($"no sample images: {folder.ClustersPath} holds no epoch yet"); return null; }
        // The log holds one entry per finished epoch of this folder, the last one last.
        return new EpochClusters(log.Length == metrics.Count ? metrics[^1].Epoch : metrics[^1].Epoch - (metrics.Count - log.Length), log[^1]);
    }

    /// <summary>The rows of sample images of the last logged epoch; a part that cannot be drawn adds a note instead.</summary>
    static IReadOnlyList<ClusterRow> Clusters(ExperimentFolder folder, TrainConfig config, IReadOnlyList<EpochMetrics> metrics,
                                              EpochClusters? lastEpoch, ReportDatasets datasets, ReportOptions options, List<string> notes)
    {
        if ((lastEpoch ?? LastLogged(folder, metrics, notes)) is not { } last) return [];
        var (epoch, lists) = (last.Epoch, last.Lists);
        IImageDataset dataset;
        try { dataset = datasets.Open(config); }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException or ImageDecodeException)
        {
            notes.Add($"no sample images: the dataset could not be opened ({e.Message})");
            return [];
        }
        var picks = ClusterSamples.Pick(lists, options.LargestClusters, options.RandomClusters, options.ImagesPerCluster, config.Seed, epoch);
        var rows = new List<ClusterRow>();
        try
        {
            foreach (var p in picks)
            {
                var strip = ClusterSamples.Strip(dataset, p.Shown, options.Thumbnail);
                var figure = new ReportFigure($"cluster-{p.Cluster}", $"cluster {p.Cluster}", ImageCodec.EncodePng(strip), strip.Width, strip.Height);
                rows.Add(new ClusterRow(epoch, p, figure, ClusterSamples.Majority(dataset, lists[p.Cluster])));
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ImageDecodeException or UnauthorizedAccessException)
        {
            notes.Add($"no sample images: {e.Message}");
            return [];
        }
        return rows;
    }
}

/// <summary>An epoch's cluster lists (image indices per cluster), as one entry of the <c>clusters</c> log holds them.</summary>
public sealed record EpochClusters(int Epoch, int[][] Lists);
