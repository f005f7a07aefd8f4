using System.Text;
using System.Text.Json;
using DeepCluster.Core.IO;

namespace DeepCluster.Core.Experiment;

/// <summary>
/// The layout of an experiment folder (<c>--exp</c>): the published outputs (<c>checkpoint.pth.tar</c>,
/// <c>checkpoints/checkpoint_N.pth.tar</c>, <c>clusters</c>) plus <c>config.json</c>, <c>metrics.jsonl</c>, the log,
/// the SQLite journal, <c>experiment.id</c> (the id its events are journaled under) and <c>work/</c> for the epoch's
/// intermediate artefacts (features, assignments, sampler order).
/// Every file is written atomically (temp + rename), so a killed run never leaves a half-written file behind.
/// </summary>
public sealed class ExperimentFolder
{
    public string Root { get; }
    public string ConfigPath => Path.Combine(Root, "config.json");
    public string JournalPath => Path.Combine(Root, "experiment.db");
    public string CheckpointPath => Path.Combine(Root, "checkpoint.pth.tar");
    public string CheckpointsDir => Path.Combine(Root, "checkpoints");
    public string ClustersPath => Path.Combine(Root, "clusters");
    public string MetricsPath => Path.Combine(Root, "metrics.jsonl");
    public string LogPath => Path.Combine(Root, "train.log");
    /// <summary>The self-contained HTML report (<see cref="Report.ExperimentReport"/>), rewritten after every epoch.</summary>
    public string ReportPath => Path.Combine(Root, Report.ExperimentReport.FileName);
    public string WorkDir => Path.Combine(Root, "work");
    public string LockPath => Path.Combine(Root, ".lock");
    /// <summary>The experiment's id (<c>experiment.id</c>, one line): its journal's persistence id is <c>experiment-ID</c>.</summary>
    public string IdPath => Path.Combine(Root, "experiment.id");

    public ExperimentFolder(string root) => Root = Path.GetFullPath(root);

    /// <summary>Checkpoint written every <c>--checkpoints</c> iterations, named as main.py names it.</summary>
    public string IterationCheckpoint(long number) => Path.Combine(CheckpointsDir, $"checkpoint_{number}.pth.tar");
    public string EpochDir(int epoch) => Path.Combine(WorkDir, $"epoch_{epoch:D4}");
    public string FeaturesPath(int epoch) => Path.Combine(EpochDir(epoch), "features.npy");
    public string AssignmentsPath(int epoch) => Path.Combine(EpochDir(epoch), "assignments.npy");
    public string SamplerOrderPath(int epoch) => Path.Combine(EpochDir(epoch), "order.npy");
    public string SamplerLabelsPath(int epoch) => Path.Combine(EpochDir(epoch), "labels.npy");
    /// <summary>The model at the end of an epoch: what the next epoch's feature pass starts from.</summary>
    public string EpochModelPath(int epoch) => Path.Combine(EpochDir(epoch), "model_end.pth.tar");

    public bool HasConfig => File.Exists(ConfigPath);

    public TrainConfig? ReadConfig()
    {
        if (!HasConfig) return null;
        try { return JsonSerializer.Deserialize<TrainConfig>(File.ReadAllText(ConfigPath), TrainConfig.Json); }
        catch (JsonException e) { throw new InvalidDataException($"{ConfigPath}: not a DeepCluster experiment configuration ({e.Message})."); }
    }

    /// <summary>
    /// The id recorded in <c>experiment.id</c>, or null when the folder has none (a new folder, or one made before ids);
    /// <see cref="InvalidDataException"/> naming the file when it is not an id. The id stays with the folder when it moves.
    /// </summary>
    public string? ReadId()
    {
        if (!File.Exists(IdPath)) return null;
        var id = File.ReadAllText(IdPath).Trim();
        if (!IsId(id))
            throw new InvalidDataException($"{IdPath}: not an experiment id (expected 1 to 64 characters a-z, 0-9, '-'); " +
                                           "restore it, or run with --restart to start over.");
        return id;
    }

    /// <summary>Gives the folder a new random id (16 hex digits), written atomically to <c>experiment.id</c>, and returns it.</summary>
    public string CreateId() => WriteId(NewId());

    /// <summary>A new random id: 16 hex digits.</summary>
    public static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    /// <summary>Records <paramref name="id"/> (checked with <see cref="IsId"/>) in <c>experiment.id</c>, atomically; returns it.</summary>
    public string WriteId(string id)
    {
        if (!IsId(id)) throw new ArgumentException($"{id}: not an experiment id (1 to 64 characters a-z, 0-9, '-')");
        AtomicFile.Write(IdPath, s => s.Write(Encoding.ASCII.GetBytes(id + "\n")));
        return id;
    }

    /// <summary>Whether <paramref name="id"/> has the form of an experiment id: 1 to 64 of a-z, 0-9 and '-'.</summary>
    public static bool IsId(string id) =>
        id.Length is > 0 and <= 64 && id.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-');

    /// <summary>A path the journal recorded (relative to the folder) as a full path in this folder.</summary>
    public string Resolve(string relative) => Path.GetFullPath(Path.Combine(Root, relative));

    /// <summary>A full path inside the folder as the journal records it: relative to the folder.</summary>
    public string Relative(string fullPath) => Path.GetRelativePath(Root, Path.GetFullPath(fullPath));

    /// <summary>Makes the folder and its sub-folders; writes no file.</summary>
    public void CreateLayout()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(CheckpointsDir);
        Directory.CreateDirectory(WorkDir);
    }

    /// <summary>
    /// Refuses (without writing anything) a folder whose <c>config.json</c> records an experiment that
    /// <paramref name="config"/> would compute differently.
    /// </summary>
    public void CheckCompatible(TrainConfig config)
    {
        var existing = ReadConfig();
        if (existing is null) return;
        var diff = existing.ResultDifferences(config);
        if (diff.Count > 0) throw new ExperimentMismatchException(MismatchMessage(diff));
    }

    /// <summary>One line: each differing flag with both values, and how to proceed.</summary>
    public string MismatchMessage(IReadOnlyList<string> differences) =>
        $"{Root} holds an experiment with other settings: {string.Join(", ", differences)}; nothing was changed. " +
        $"Use another --exp folder, or `deepcluster resume {Root}` to continue it with its own settings.";

    /// <summary>
    /// The results and intermediate files of a run present in the folder (<c>metrics.jsonl</c>, <c>clusters</c>,
    /// <c>checkpoint.pth.tar</c>, files under <c>checkpoints/</c> and <c>work/</c>), by name relative to the folder.
    /// </summary>
    public IReadOnlyList<string> ResultFiles()
    {
        var found = new List<string>();
        foreach (var f in new[] { MetricsPath, ClustersPath, CheckpointPath })
            if (File.Exists(f)) found.Add(Path.GetFileName(f));
        foreach (var d in new[] { CheckpointsDir, WorkDir })
            if (Directory.Exists(d) && Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories).Any())
                found.Add(Path.GetFileName(d) + "/");
        return found;
    }

    /// <summary>
    /// Moves everything the folder holds (journal, configuration, outputs, log), except the lock and the folders
    /// earlier calls made, into a new sub-folder <c>replaced-TIME</c>, and returns it; the folder is then empty.
    /// </summary>
    public string MoveAside()
    {
        var aside = Path.Combine(Root, $"replaced-{DateTime.Now:yyyyMMdd-HHmmss}");
        for (var n = 2; Directory.Exists(aside); n++) aside = Path.Combine(Root, $"replaced-{DateTime.Now:yyyyMMdd-HHmmss}-{n}");
        Directory.CreateDirectory(aside);
        foreach (var entry in Directory.EnumerateFileSystemEntries(Root).ToList())
        {
            var name = Path.GetFileName(entry);
            if (name == Path.GetFileName(LockPath) || name.StartsWith("replaced-", StringComparison.Ordinal)) continue;
            if (Directory.Exists(entry)) Directory.Move(entry, Path.Combine(aside, name));
            else File.Move(entry, Path.Combine(aside, name));
        }
        return aside;
    }

    public void WriteConfig(TrainConfig config) =>
        AtomicFile.Write(ConfigPath, s => JsonSerializer.Serialize(s, config, TrainConfig.Json));

    /// <summary>Rewrites <c>metrics.jsonl</c> from the durable list of epochs (one JSON object per line).</summary>
    public void WriteMetrics(IEnumerable<EpochMetrics> epochs)
    {
        var sb = new StringBuilder();
        foreach (var m in epochs) sb.Append(JsonSerializer.Serialize(m, MetricsJson)).Append('\n');
        AtomicFile.Write(MetricsPath, s => s.Write(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    public IReadOnlyList<EpochMetrics> ReadMetrics() => !File.Exists(MetricsPath)
        ? []
        : File.ReadAllLines(MetricsPath).Where(l => l.Length > 0)
              .Select(l => JsonSerializer.Deserialize<EpochMetrics>(l, MetricsJson)!).ToList();

    /// <summary>Removes the intermediate artefacts of epochs before <paramref name="epoch"/>.</summary>
    public void PruneWork(int epoch)
    {
        if (!Directory.Exists(WorkDir)) return;
        foreach (var dir in Directory.GetDirectories(WorkDir, "epoch_*"))
            if (int.TryParse(Path.GetFileName(dir)["epoch_".Length..], out var e) && e < epoch)
                Directory.Delete(dir, recursive: true);
    }

    public static readonly JsonSerializerOptions MetricsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}

/// <summary>The experiment folder belongs to a different configuration.</summary>
public sealed class ExperimentMismatchException(string message) : Exception(message);
