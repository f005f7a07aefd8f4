using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeepCluster.Core.Experiment;

/// <summary>
/// Everything a DeepCluster run is configured with: the flags of the published <c>main.py</c>, same names and defaults,
/// plus the data format, device and clustering details this port adds. Immutable; stored as <c>config.json</c> in the
/// experiment folder.
/// </summary>
public sealed record TrainConfig
{
    /// <summary>Path to the dataset (ImageFolder root, or a folder of IDX files).</summary>
    public required string Data { get; init; }
    public string Arch { get; init; } = "alexnet";
    public bool Sobel { get; init; }
    public string Clustering { get; init; } = "Kmeans";
    public int NmbCluster { get; init; } = 10000;
    public double Lr { get; init; } = 0.05;
    public double Wd { get; init; } = -5;
    public double Reassign { get; init; } = 1.0;
    public int Workers { get; init; } = 4;
    public int Epochs { get; init; } = 200;
    public int StartEpoch { get; init; }
    public int Batch { get; init; } = 256;
    public double Momentum { get; init; } = 0.9;
    public string? Resume { get; init; }
    public int Checkpoints { get; init; } = 25000;
    public int Seed { get; init; } = 31;
    public required string Exp { get; init; }
    public bool Verbose { get; init; }

    /// <summary>cpu, cuda or cuda:N; null = cuda when available.</summary>
    public string? Device { get; init; }
    /// <summary>auto, imagefolder, idx or pack.</summary>
    public string DataFormat { get; init; } = "auto";
    /// <summary>Use only the first N images (in dataset order), e.g. 10 000 for the benchmark's fmnist-10k.</summary>
    public int? Limit { get; init; }
    /// <summary>IDX split: train or t10k.</summary>
    public string Split { get; init; } = "train";
    /// <summary>PCA output dimension before clustering (256 in the paper).</summary>
    public int Pca { get; init; } = 256;
    /// <summary>k-means iterations (20 in the paper).</summary>
    public int Niter { get; init; } = 20;
    /// <summary>Skip unreadable images (reported) instead of failing.</summary>
    public bool SkipBadFiles { get; init; }
    /// <summary>
    /// fp32, or bf16: convolutions and linear layers of training and the feature pass computed in bf16 (autocast; weights,
    /// optimiser state, checkpoints and features stay float32). Changes the results, so it is part of <see cref="Identity"/>;
    /// a folder journaled before the flag existed is fp32.
    /// </summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>
    /// The settings that define what an experiment computes, by flag. A folder made with one of these different cannot
    /// be continued with another: the run would mix two experiments. (<c>--resume</c> and <c>--start_epoch</c> only
    /// matter when the experiment starts; see <see cref="ResultDifferences"/>.)
    /// </summary>
    public IReadOnlyDictionary<string, string> Identity() => new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["DIR"] = Path.GetFullPath(Data),
        ["--arch"] = Arch,
        ["--sobel"] = Sobel ? "on" : "off",
        ["--clustering"] = Clustering,
        ["--nmb_cluster"] = NmbCluster.ToString(Inv),
        ["--lr"] = Lr.ToString("R", Inv),
        ["--wd"] = Wd.ToString("R", Inv),
        ["--reassign"] = Reassign.ToString("R", Inv),
        ["--batch"] = Batch.ToString(Inv),
        ["--momentum"] = Momentum.ToString("R", Inv),
        ["--seed"] = Seed.ToString(Inv),
        ["--data-format"] = DataFormat,
        ["--limit"] = Limit?.ToString(Inv) ?? "all",
        ["--split"] = Split,
        ["--pca"] = Pca.ToString(Inv),
        ["--niter"] = Niter.ToString(Inv),
        ["--start_epoch"] = StartEpoch.ToString(Inv),
        ["--precision"] = Precision,
    };

    /// <summary>
    /// The flags of <paramref name="now"/> that would change what the experiment of this configuration computes, each
    /// as <c>--lr 0.05 (folder) vs 0.1 (now)</c>. A run without <c>--resume</c> continues an experiment started from a
    /// checkpoint; another checkpoint is a difference.
    /// </summary>
    public IReadOnlyList<string> ResultDifferences(TrainConfig now)
    {
        var a = Identity(); var b = now.Identity();
        var diff = a.Keys.Where(k => a[k] != b[k]).Select(k => $"{k} {a[k]} (folder) vs {b[k]} (now)").ToList();
        if (now.Resume is not null && now.Resume != Resume) diff.Add($"--resume {Resume ?? "none"} (folder) vs {now.Resume} (now)");
        return diff;
    }

    /// <summary>The flags that only change how the run goes.</summary>
    public RunSettings Settings() => new(Workers, Device, Verbose, SkipBadFiles, Checkpoints, Epochs);

    /// <summary>This configuration run with other <see cref="RunSettings"/>.</summary>
    public TrainConfig With(RunSettings s) => this with
    {
        Workers = s.Workers, Device = s.Device, Verbose = s.Verbose, SkipBadFiles = s.SkipBadFiles,
        Checkpoints = s.Checkpoints, Epochs = s.Epochs,
    };

    static readonly System.Globalization.CultureInfo Inv = System.Globalization.CultureInfo.InvariantCulture;

    /// <summary>
    /// Checks values a user can get wrong, before anything is written; the message names the flag and the value and
    /// says what is allowed.
    /// </summary>
    public void Validate()
    {
        static string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        if (NmbCluster <= 0) throw new ArgumentException($"--nmb_cluster {NmbCluster}: must be positive.");
        if (Batch <= 0) throw new ArgumentException($"--batch {Batch}: must be positive.");
        if (Workers is < 0 or > MaxWorkers) throw new ArgumentException($"--workers {Workers}: must be from 0 to {MaxWorkers}.");
        if (Epochs <= 0) throw new ArgumentException($"--epochs {Epochs}: must be positive.");
        if (StartEpoch < 0) throw new ArgumentException($"--start_epoch {StartEpoch}: must be 0 or more.");
        if (Epochs <= StartEpoch) throw new ArgumentException($"--epochs {Epochs}: must be more than --start_epoch {StartEpoch}; there would be nothing to train.");
        if (Checkpoints <= 0) throw new ArgumentException($"--checkpoints {Checkpoints}: must be positive.");
        if (!double.IsFinite(Lr) || Lr <= 0) throw new ArgumentException($"--lr {F(Lr)}: must be a positive number.");
        if (!double.IsFinite(Momentum) || Momentum is < 0 or >= 1)
            throw new ArgumentException($"--momentum {F(Momentum)}: must be from 0 (no momentum) to less than 1.");
        if (!double.IsFinite(Wd) || Wd is < MinWdPow or > 0)
            throw new ArgumentException($"--wd {F(Wd)}: the weight decay is 10^wd; wd must be from {MinWdPow} to 0 (default -5: 1e-5).");
        if (!double.IsFinite(Reassign) || Reassign <= 0) throw new ArgumentException($"--reassign {F(Reassign)}: must be a positive number of epochs.");
        if (Clustering is not ("Kmeans" or "PIC")) throw new ArgumentException($"--clustering {Clustering}: choose Kmeans or PIC.");
        if (DataFormat is not ("auto" or "imagefolder" or "idx" or "pack")) throw new ArgumentException($"--data-format {DataFormat}: choose auto, imagefolder, idx or pack.");
        if (Split is not ("train" or "t10k"))
            throw new ArgumentException($"--split {Split}: choose train or t10k (which IDX files to read: train-images-idx3-ubyte or t10k-images-idx3-ubyte).");
        if (Limit is <= 0) throw new ArgumentException($"--limit {Limit}: must be positive.");
        if (Pca <= 0) throw new ArgumentException($"--pca {Pca}: must be positive.");
        if (Niter <= 0) throw new ArgumentException($"--niter {Niter}: must be positive.");
        Training.PrecisionNames.Parse(Precision);
        if (!Models.ModelFactory.Architectures.Contains(Arch))
            throw new ArgumentException($"--arch {Arch}: unknown architecture; choose one of {string.Join(", ", Models.ModelFactory.Architectures)}.");
    }

    /// <summary>The most decoding workers a run may ask for (they are tasks, at most one per core is used).</summary>
    public const int MaxWorkers = 1024;
    /// <summary>The smallest <c>--wd</c> (weight decay 10^wd): below it the decay is zero in float32 anyway.</summary>
    public const double MinWdPow = -50;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
