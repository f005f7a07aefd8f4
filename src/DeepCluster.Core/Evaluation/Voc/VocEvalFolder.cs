using System.Globalization;
using System.Text;
using System.Text.Json;
using DeepCluster.Core.IO;

namespace DeepCluster.Core.Evaluation.Voc;

/// <summary>
/// The <c>--exp</c> folder of a VOC evaluation: <c>settings.json</c> (what identifies the run), <c>eval_voc.log</c>,
/// <c>checkpoint.pth.tar</c> (every <c>--checkpoint_every</c> iterations and at the end of training: what a resumed
/// run starts from), <c>results.json</c> and <c>summary.txt</c> (the outcome, for programs and for people).
/// </summary>
public sealed class VocEvalFolder
{
    public string Root { get; }
    public string SettingsPath => Path.Combine(Root, "settings.json");
    public string LogPath => Path.Combine(Root, "eval_voc.log");
    public string CheckpointPath => Path.Combine(Root, "checkpoint.pth.tar");
    public string ResultsPath => Path.Combine(Root, "results.json");
    public string SummaryPath => Path.Combine(Root, "summary.txt");

    public VocEvalFolder(string root) => Root = Path.GetFullPath(root);

    /// <summary>
    /// Creates the folder, or checks that the run it holds has the same <see cref="VocEvalSettings.Identity"/> (one
    /// clear line otherwise). A training experiment's folder (its <c>config.json</c>) is refused.
    /// </summary>
    public void Prepare(VocEvalSettings settings)
    {
        if (File.Exists(Root)) throw new ArgumentException($"--exp {Root}: is a file; give a folder for the logs and the checkpoints.");
        if (File.Exists(Path.Combine(Root, "config.json")))
            throw new ArgumentException($"--exp {Root}: holds a training experiment (config.json); give another folder for the evaluation.");
        Directory.CreateDirectory(Root);
        if (File.Exists(SettingsPath))
        {
            VocEvalSettings? saved;
            try { saved = JsonSerializer.Deserialize<VocEvalSettings>(File.ReadAllText(SettingsPath), LinearEvalFolder.Json); }
            catch (JsonException e) { throw new InvalidDataException($"{SettingsPath}: unreadable ({e.Message})."); }
            if (saved is null) throw new InvalidDataException($"{SettingsPath}: empty.");
            if (saved.Identity != settings.Identity)
            {
                var a = JsonSerializer.SerializeToElement(saved.Identity, LinearEvalFolder.Json);
                var b = JsonSerializer.SerializeToElement(settings.Identity, LinearEvalFolder.Json);
                var diffs = a.EnumerateObject().Where(p => p.Value.ToString() != b.GetProperty(p.Name).ToString())
                    .Select(p => $"{p.Name} {p.Value}, now {b.GetProperty(p.Name)}");
                throw new ArgumentException($"--exp {Root}: holds a VOC evaluation with other settings ({string.Join("; ", diffs)}); " +
                                            "give another folder, or the same flags to continue it.");
            }
        }
        AtomicFile.Write(SettingsPath, s => JsonSerializer.Serialize(s, settings, LinearEvalFolder.Json));
    }

    /// <summary>Appends a time-stamped line to the log.</summary>
    public void Log(string line) => File.AppendAllText(LogPath, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z {line}{Environment.NewLine}");

    /// <summary>Writes <c>results.json</c> and <c>summary.txt</c>; returns the summary's one-line headline.</summary>
    public string WriteResults(VocEvalSettings settings, VocEvalResult result)
    {
        var classes = VocDataset.ClassNames;
        var results = new
        {
            settings.Model, settings.VocDir, settings.Arch, settings.Split, settings.TestSplit, Iterations = result.Iterations,
            Mode = settings.Fc6To8 ? (settings.TrainBatchNorm ? "fc6_8+bn" : "fc6_8") : "all",
            TestCrops = settings.EvalRandomCrops ? "10 random crops" : "TenCrop",
            TrainImages = result.Train.Images, TestImages = result.Test.Images,
            TrainMap = result.Train.Map, TestMap = result.Test.Map,
            TestAp = classes.Select((c, i) => (c, result.Test.PerClass[i])).ToDictionary(x => x.c, x => x.Item2),
            TrainAp = classes.Select((c, i) => (c, result.Train.PerClass[i])).ToDictionary(x => x.c, x => x.Item2),
            FinalLoss = result.FinalLoss, Seconds = result.Seconds,
        };
        AtomicFile.Write(ResultsPath, s => JsonSerializer.Serialize(s, results, new JsonSerializerOptions(LinearEvalFolder.Json) { WriteIndented = true }));
        var headline = string.Create(CultureInfo.InvariantCulture,
            $"{settings.Arch} VOC2007 {settings.Split}→{settings.TestSplit} ({results.Mode}, {result.Iterations} iterations): test mAP {100 * result.Test.Map:F2} % (train {100 * result.Train.Map:F2} %)");
        var text = new StringBuilder();
        text.AppendLine(headline);
        text.AppendLine($"model   {settings.Model ?? $"random init (seed {settings.Seed})"}");
        text.AppendLine($"data    {settings.VocDir}: {result.Train.Images} {settings.Split} / {result.Test.Images} {settings.TestSplit} images; test on {results.TestCrops}, scores summed");
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"sgd     lr {settings.Lr} halved every {settings.StepSize} iterations, momentum {VocEvalSettings.Momentum}, weight decay {settings.WeightDecay}, batch {settings.BatchSize}, gradient norm ≤ {VocEvalSettings.ClipNorm}"));
        text.AppendLine("class          test AP  train AP");
        for (int c = 0; c < classes.Length; c++)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{classes[c],-12} {100 * result.Test.PerClass[c],8:F2}  {100 * result.Train.PerClass[c],8:F2}"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{"mAP",-12} {100 * result.Test.Map,8:F2}  {100 * result.Train.Map,8:F2}"));
        AtomicFile.Write(SummaryPath, s => s.Write(Encoding.UTF8.GetBytes(text.ToString())));
        return headline;
    }
}

/// <summary>The average precisions of one split: per class (difficult images excluded) and their mean, in [0, 1].</summary>
public sealed record VocSplitScore(int Images, double[] PerClass, double Map);

/// <summary>What a finished VOC evaluation reports.</summary>
public sealed record VocEvalResult(int Iterations, VocSplitScore Train, VocSplitScore Test, double? FinalLoss, double Seconds, int ResumedAt);
