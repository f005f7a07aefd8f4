using System.Globalization;
using System.Text;
using System.Text.Json;
using DeepCluster.Core.IO;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// The <c>--exp</c> folder of a linear evaluation: <c>settings.json</c> (what identifies the run), <c>metrics.jsonl</c>
/// (a <see cref="LinearEvalEpoch"/> per line), <c>eval_linear.log</c>, <c>checkpoint.pth.tar</c> (after every epoch,
/// what a resumed run starts from), <c>model_best.pth.tar</c> (the classifier of the best test top-1),
/// <c>results.json</c> and <c>summary.txt</c> (the outcome, for programs and for people).
/// </summary>
public sealed class LinearEvalFolder
{
    /// <summary>JSON of the folder's files: snake_case keys.</summary>
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string Root { get; }
    public string SettingsPath => Path.Combine(Root, "settings.json");
    public string MetricsPath => Path.Combine(Root, "metrics.jsonl");
    public string LogPath => Path.Combine(Root, "eval_linear.log");
    public string CheckpointPath => Path.Combine(Root, "checkpoint.pth.tar");
    public string BestPath => Path.Combine(Root, "model_best.pth.tar");
    public string ResultsPath => Path.Combine(Root, "results.json");
    public string SummaryPath => Path.Combine(Root, "summary.txt");

    public LinearEvalFolder(string root) => Root = Path.GetFullPath(root);

    /// <summary>
    /// Creates the folder, or checks that the run it holds has the same <see cref="LinearEvalSettings.Identity"/>
    /// (one clear line otherwise). A training experiment's folder (its <c>config.json</c>) is refused: the two would
    /// share <c>checkpoint.pth.tar</c>.
    /// </summary>
    public void Prepare(LinearEvalSettings settings)
    {
        if (File.Exists(Root)) throw new ArgumentException($"--exp {Root}: is a file; give a folder for the logs and the classifier.");
        if (File.Exists(Path.Combine(Root, "config.json")))
            throw new ArgumentException($"--exp {Root}: holds a training experiment (config.json); give another folder for the evaluation.");
        Directory.CreateDirectory(Root);
        if (File.Exists(SettingsPath))
        {
            LinearEvalSettings? saved;
            try { saved = JsonSerializer.Deserialize<LinearEvalSettings>(File.ReadAllText(SettingsPath), Json); }
            catch (JsonException e) { throw new InvalidDataException($"{SettingsPath}: unreadable ({e.Message})."); }
            if (saved is null) throw new InvalidDataException($"{SettingsPath}: empty.");
            if (saved.Identity != settings.Identity)
                throw new ArgumentException($"--exp {Root}: holds a linear evaluation with other settings ({Differences(saved.Identity, settings.Identity)}); " +
                                            "give another folder, or the same flags to continue it.");
        }
        AtomicFile.Write(SettingsPath, s => JsonSerializer.Serialize(s, settings, Json));
    }

    static string Differences(LinearEvalSettings saved, LinearEvalSettings now)
    {
        var a = JsonSerializer.SerializeToElement(saved, Json);
        var b = JsonSerializer.SerializeToElement(now, Json);
        var diffs = a.EnumerateObject().Where(p => p.Value.ToString() != b.GetProperty(p.Name).ToString())
            .Select(p => $"{p.Name} {Show(p.Value)}, now {Show(b.GetProperty(p.Name))}");
        return string.Join("; ", diffs);
        static string Show(JsonElement e) => e.ValueKind == JsonValueKind.Null ? "none" : e.ToString();
    }

    /// <summary>The epochs recorded before <paramref name="nextEpoch"/>; later lines (an epoch whose checkpoint was not written) are dropped from the file.</summary>
    public List<LinearEvalEpoch> KeepEpochsBefore(int nextEpoch)
    {
        var kept = new List<LinearEvalEpoch>();
        if (!File.Exists(MetricsPath)) return kept;
        foreach (var line in File.ReadAllLines(MetricsPath))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            LinearEvalEpoch? e;
            try { e = JsonSerializer.Deserialize<LinearEvalEpoch>(line, Json); }
            catch (JsonException) { continue; }   // a line cut short by a kill
            if (e is not null && e.Epoch < nextEpoch) kept.Add(e);
        }
        AtomicFile.Write(MetricsPath, s =>
        {
            using var w = new StreamWriter(s, new UTF8Encoding(false), leaveOpen: true);
            foreach (var e in kept) w.WriteLine(JsonSerializer.Serialize(e, Json));
        });
        return kept;
    }

    /// <summary>Appends an epoch to <c>metrics.jsonl</c>.</summary>
    public void Append(LinearEvalEpoch epoch) => File.AppendAllText(MetricsPath, JsonSerializer.Serialize(epoch, Json) + "\n");

    /// <summary>Appends a time-stamped line to the log.</summary>
    public void Log(string line) => File.AppendAllText(LogPath, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z {line}{Environment.NewLine}");

    /// <summary>Writes <c>results.json</c> and <c>summary.txt</c>; returns the summary's one-line headline.</summary>
    public string WriteResults(LinearEvalSettings settings, ProbeLayer layer, LinearEvalResult result, int classes, int trainImages, int testImages)
    {
        var last = result.Epochs.Count > 0 ? result.Epochs[^1] : null;
        var results = new
        {
            settings.Model, settings.Data, settings.Arch, settings.Conv, layer.Dim,
            Pooling = new[] { layer.Kernel, layer.Stride, layer.Padding },
            settings.TenCrops, Classes = classes, TrainImages = trainImages, TestImages = testImages,
            EpochsRun = result.Epochs.Count, EpochsAsked = settings.Epochs, result.BestTop1, result.BestEpoch, result.Top5AtBest,
            LastTop1 = last?.Top1, LastTop5 = last?.Top5, Seconds = result.Epochs.Sum(e => e.Seconds),
        };
        AtomicFile.Write(ResultsPath, s => JsonSerializer.Serialize(s, results, new JsonSerializerOptions(Json) { WriteIndented = true }));
        var headline = string.Create(CultureInfo.InvariantCulture,
            $"{settings.Arch} conv{settings.Conv} ({layer.Dim} dims): best top-1 {result.BestTop1:F2} % (epoch {result.BestEpoch + 1}, top-5 {result.Top5AtBest:F2} %) after {result.Epochs.Count} epoch{(result.Epochs.Count == 1 ? "" : "s")}");
        var text = new StringBuilder();
        text.AppendLine(headline);
        text.AppendLine($"model   {settings.Model ?? $"random init (seed {settings.Seed})"}");
        text.AppendLine($"data    {settings.Data}: {classes} classes, {trainImages} train / {testImages} test images{(settings.TenCrops ? ", ten crops" : "")}");
        text.AppendLine($"probe   {layer}");
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"sgd     lr {settings.Lr} / sqrt(1 + lr·wd·t), momentum {settings.Momentum}, weight decay 1e{settings.WeightDecayPower}, batch {settings.BatchSize}"));
        text.AppendLine("epoch  train-loss  train-top1  test-loss   top-1   top-5");
        foreach (var e in result.Epochs)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{e.Epoch + 1,5}  {e.TrainLoss,10:F4}  {e.TrainTop1,10:F2}  {e.TestLoss,9:F4}  {e.Top1,6:F2}  {e.Top5,6:F2}{(e.Epoch == result.BestEpoch ? "  *" : "")}"));
        AtomicFile.Write(SummaryPath, s => s.Write(Encoding.UTF8.GetBytes(text.ToString())));
        return headline;
    }
}
