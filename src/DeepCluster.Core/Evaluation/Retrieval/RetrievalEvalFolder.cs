using System.Globalization;
using System.Text;
using System.Text.Json;
using DeepCluster.Core.IO;

namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>
/// The <c>--exp</c> folder of a retrieval evaluation: <c>settings.json</c> (what the saved work depends on,
/// <see cref="RetrievalIdentity"/>), <c>descriptors/</c> (the PCA statistics and database descriptors done,
/// <see cref="RetrievalDescriptorStore"/>: what a killed run continues from), <c>eval_retrieval.log</c>,
/// <c>results.json</c> (per-query AP and the mAP, for programs), <c>summary.txt</c> (for people) and <c>ranks/</c>.
/// </summary>
public sealed class RetrievalEvalFolder
{
    public string Root { get; }
    public string SettingsPath => Path.Combine(Root, "settings.json");
    public string DescriptorsPath => Path.Combine(Root, "descriptors");
    public string LogPath => Path.Combine(Root, "eval_retrieval.log");
    public string ResultsPath => Path.Combine(Root, "results.json");
    public string SummaryPath => Path.Combine(Root, "summary.txt");
    public string RanksPath => Path.Combine(Root, "ranks");

    public RetrievalEvalFolder(string root) => Root = Path.GetFullPath(root);

    /// <summary>The saved work of the run in this folder.</summary>
    public RetrievalDescriptorStore Descriptors => new(DescriptorsPath);

    /// <summary>
    /// Creates the folder, or checks that the run it holds has the same <paramref name="identity"/> (one clear line
    /// naming what differs otherwise), and removes temporary files a killed run left. A file, or a training
    /// experiment's folder (its <c>config.json</c>), is refused.
    /// </summary>
    public void Prepare(RetrievalIdentity identity)
    {
        if (File.Exists(Root)) throw new ArgumentException($"--exp {Root}: is a file; give a folder for the results.");
        if (File.Exists(Path.Combine(Root, "config.json")))
            throw new ArgumentException($"--exp {Root}: holds a training experiment (config.json); give another folder for the evaluation.");
        Directory.CreateDirectory(Root);
        if (File.Exists(SettingsPath))
        {
            RetrievalIdentity? saved;
            try { saved = JsonSerializer.Deserialize<RetrievalIdentity>(File.ReadAllText(SettingsPath), LinearEvalFolder.Json); }
            catch (JsonException e) { throw new InvalidDataException($"{SettingsPath}: unreadable ({e.Message})."); }
            if (saved is null) throw new InvalidDataException($"{SettingsPath}: empty.");
            if (saved != identity)
            {
                var a = JsonSerializer.SerializeToElement(saved, LinearEvalFolder.Json);
                var b = JsonSerializer.SerializeToElement(identity, LinearEvalFolder.Json);
                var diffs = a.EnumerateObject().Where(p => p.Value.ToString() != b.GetProperty(p.Name).ToString())
                    .Select(p => $"{p.Name} {Shown(p.Value)}, now {Shown(b.GetProperty(p.Name))}");
                throw new ArgumentException($"--exp {Root}: holds a retrieval evaluation with other settings ({string.Join("; ", diffs)}); " +
                                            "give another folder, or the same flags to continue it.");
            }
        }
        else if (Directory.Exists(DescriptorsPath))
            throw new InvalidDataException($"{DescriptorsPath}: saved work without {SettingsPath}; delete it or give another --exp.");
        AtomicFile.RemoveStale(Root);
        AtomicFile.Write(SettingsPath, s => JsonSerializer.Serialize(s, identity, LinearEvalFolder.Json));
    }

    static string Shown(JsonElement v) => v.ValueKind == JsonValueKind.Null ? "none" : v.ToString();

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
