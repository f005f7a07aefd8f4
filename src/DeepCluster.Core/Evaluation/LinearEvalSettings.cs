using System.Text.Json.Serialization;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// The flags of the published <c>eval_linear.py</c> (defaults as there) and what identifies a run for resuming.
/// </summary>
/// <param name="Model">Full path of the evaluated model file, or null for a randomly initialised <paramref name="Arch"/>.</param>
/// <param name="Data">Full path of the dataset (ImageFolder root with train/ and val/, or an IDX folder).</param>
/// <param name="WeightDecayPower">Weight decay as a power of ten (<c>--weight_decay -4</c> → 10⁻⁴).</param>
/// <param name="Workers">Decoding tasks (not part of a run's identity).</param>
/// <param name="Epochs">Total epochs (not part of a run's identity: a finished run can be extended).</param>
public sealed record LinearEvalSettings(
    string? Model, string Data, string Arch, int Conv, int Epochs = 90, int BatchSize = 256, double Lr = 0.01,
    double Momentum = 0.9, double WeightDecayPower = -4, bool TenCrops = false, long Seed = 31, int Workers = 4)
{
    /// <summary>10^<see cref="WeightDecayPower"/>.</summary>
    [JsonIgnore]
    public double WeightDecay => Math.Pow(10, WeightDecayPower);

    /// <summary>Test batches hold half a training batch, as published (<c>int(batch_size / 2)</c>, at least 1).</summary>
    [JsonIgnore]
    public int TestBatchSize => Math.Max(1, BatchSize / 2);

    /// <summary>The settings two runs must share for one to continue the other (all but epochs and workers).</summary>
    [JsonIgnore]
    public LinearEvalSettings Identity => this with { Epochs = 0, Workers = 0 };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first flag out of range.</summary>
    public void Validate()
    {
        if (Conv is < 1 or > 5) throw new ArgumentException($"--conv {Conv}: choose a conv layer from 1 to 5.");
        if (Epochs <= 0) throw new ArgumentException($"--epochs {Epochs}: must be at least 1.");
        if (BatchSize <= 0) throw new ArgumentException($"--batch_size {BatchSize}: must be at least 1.");
        if (!(Lr > 0) || double.IsInfinity(Lr)) throw new ArgumentException($"--lr {Lr}: must be a positive number.");
        if (Momentum is < 0 or >= 1 || double.IsNaN(Momentum)) throw new ArgumentException($"--momentum {Momentum}: must be in [0, 1).");
        if (!double.IsFinite(WeightDecayPower) || WeightDecayPower > 0)
            throw new ArgumentException($"--weight_decay {WeightDecayPower}: a power of ten, 0 or below (e.g. -4 for 1e-4).");
        if (Workers <= 0) throw new ArgumentException($"--workers {Workers}: must be at least 1.");
    }
}

/// <summary>One epoch of a linear evaluation: a line of <c>metrics.jsonl</c>. Accuracies in percent, as published.</summary>
public sealed record LinearEvalEpoch
{
    /// <summary>0-based epoch.</summary>
    public int Epoch { get; init; }
    public double TrainLoss { get; init; }
    public double TrainTop1 { get; init; }
    public double TrainTop5 { get; init; }
    /// <summary>Test loss (on the central crop with <c>--tencrops</c>, as published).</summary>
    public double TestLoss { get; init; }
    public double Top1 { get; init; }
    public double Top5 { get; init; }
    /// <summary>Best test top-1 so far, this epoch included.</summary>
    public double BestTop1 { get; init; }
    /// <summary>Learning rate of the epoch's last iteration.</summary>
    public double Lr { get; init; }
    public double Seconds { get; init; }
    public double TrainImagesPerSecond { get; init; }
}

/// <summary>Which pass of an epoch a progress report is about.</summary>
public enum LinearEvalPhase { Train, Test }

/// <summary>How far a pass is: <paramref name="Done"/> of <paramref name="Total"/> batches; <paramref name="Label"/>, when
/// given, names the pass instead of its epoch and phase (VOC fine-tuning counts iterations, not epochs).</summary>
public sealed record LinearEvalProgress(int Epoch, LinearEvalPhase Phase, int Done, int Total, double ImagesPerSecond, string? Label = null);

/// <summary>Receives a linear evaluation's progress and log lines (the CLI draws bars or prints lines).</summary>
public interface ILinearEvalObserver
{
    void OnProgress(LinearEvalProgress progress);
    void OnLog(string line);
}

/// <summary>What a finished (or already finished) linear evaluation reports.</summary>
public sealed record LinearEvalResult(IReadOnlyList<LinearEvalEpoch> Epochs, double BestTop1, int BestEpoch, double Top5AtBest,
                                      int ResumedAt);
