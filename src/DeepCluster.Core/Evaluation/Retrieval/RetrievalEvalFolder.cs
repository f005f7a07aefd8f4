using System.Globalization;
using System.Text;
using System.Text.Json;
using DeepCluster.Core.IO;

namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>
/// The <c>--exp</c> folder of a retrieval evaluation: <c>eval_retrieval.log</c>, <c>results.json</c> (per-query AP and the
/// mAP, for programs) and <c>summary.txt</c> (for people). There is nothing to resume: a run is one pass and a new run
/// overwrites the results.
/// </summary>
public sealed class RetrievalEvalFolder
{
    public string Root { get; }
    public string LogPath => Path.Combine(Root, "eval_retrieval.log");
    public string ResultsPath => Path.Combine(Root, "results.json");
    public string SummaryPath => Path.Combine(Root, "summary.txt");
    public string RanksPath => Path.Combine(Root, "ranks");

    public RetrievalEvalFolder(string root) => Root = Path.GetFullPath(root);

    /// <summary>Creates the folder; a file, or a training experiment's folder (its <c>config.json</c>), is refused.</summary>
    public void Prepare()
    {
        if (File.Exists(Root)) throw new ArgumentException($"--exp {Root}: is a file; give a folder for the results.");
        if (File.Exists(Path.Combine(Root, "config.json")))
            throw new ArgumentException($"--exp {Root}: holds a training experiment (config.json); give another folder for the evaluation.");
        Directory.CreateDirectory(Root);
    }

    /// <summary>Appends a time-stamped line to the log.</summary>
    public void Log(string line) => File.AppendAllText(LogPath, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z {line}{Environment.NewLine}");

    /// <summary>Writes <c>results.json</c> and <c>summary.txt</c>; returns the summary's one-line headline.</summary>
    public string WriteResults(RetrievalSettings settings, string dataset, RetrievalResult result)
    {
        var whitening = settings.Other is null ? "no PCA-whitening" : $"PCA-whitened to {result.DescriptorDim} on {Path.GetFileName(settings.Other)}";
        var results = new
        {
            settings.Model, settings.Data, settings.Other, settings.Arch, settings.ImDim, settings.Levels, Dataset = dataset,
            result.Images, Queries = result.Queries.Count, result.Channels, result.DescriptorDim, result.PcaImages, result.PcaEnergy,
            result.Map, Ap = result.Queries.ToDictionary(q => q.Query, q => q.Ap), result.Seconds,
        };
        Directory.CreateDirectory(RanksPath);
        foreach (var q in result.Queries)
            File.WriteAllLines(Path.Combine(RanksPath, q.Query + ".rnk"), q.Ranking);
        AtomicFile.Write(ResultsPath, s => JsonSerializer.Serialize(s, results, new JsonSerializerOptions(LinearEvalFolder.Json) { WriteIndented = true }));
        var headline = string.Create(CultureInfo.InvariantCulture,
            $"{settings.Arch} {dataset} retrieval (R-MAC, L {settings.Levels}, imdim {settings.ImDim}, {whitening}): mAP {100 * result.Map:F2} % over {result.Queries.Count} queries");
        var text = new StringBuilder();
        text.AppendLine(headline);
        text.AppendLine($"model   {settings.Model ?? $"random init (seed {settings.Seed})"}");
        text.AppendLine($"data    {settings.Data}: {result.Images} database images, {result.Queries.Count} queries; descriptors of {result.DescriptorDim} (conv map of {result.Channels} channels)");
        if (settings.Other is not null)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"pca     learned on the regions of {result.PcaImages} images of {settings.Other} ({100 * result.PcaEnergy:F2} % of the energy kept)"));
        text.AppendLine("query                          AP");
        foreach (var q in result.Queries)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{q.Query,-28} {100 * q.Ap,6:F2}"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{"mAP",-28} {100 * result.Map,6:F2}"));
        AtomicFile.Write(SummaryPath, s => s.Write(Encoding.UTF8.GetBytes(text.ToString())));
        return headline;
    }
}
