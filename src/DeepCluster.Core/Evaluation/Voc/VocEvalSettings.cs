using System.Text.Json.Serialization;

namespace DeepCluster.Core.Evaluation.Voc;

/// <summary>
/// The flags of the published <c>eval_voc_classif.py</c> (defaults as there) and what identifies a run for resuming.
/// </summary>
/// <param name="Model">Full path of the evaluated model file, or null for a randomly initialised <paramref name="Arch"/>.</param>
/// <param name="VocDir">Full path of the VOC2007 folder.</param>
/// <param name="Split">Training split: <c>train</c> (tested on <c>val</c>) or <c>trainval</c> (tested on <c>test</c>).</param>
/// <param name="Nit">Training iterations (not part of a run's identity: the schedule does not depend on it, so a finished run can be extended).</param>
/// <param name="Fc6To8">Train only fc6–fc8 (the conv layers frozen), as the published default; else fine-tune everything.</param>
/// <param name="TrainBatchNorm">With <paramref name="Fc6To8"/>, also train the BatchNorm scales and shifts (statistics stay frozen).</param>
/// <param name="EvalRandomCrops">Test on 10 random crops (as in training) summed; else on TenCrop after Resize.</param>
/// <param name="CheckpointEvery">Iterations between checkpoints (not part of the identity).</param>
/// <param name="Workers">Decoding tasks (not part of the identity).</param>
public sealed record VocEvalSettings(
    string? Model, string VocDir, string Arch, string Split = "train", int Nit = 80000, bool Fc6To8 = true,
    bool TrainBatchNorm = false, bool EvalRandomCrops = true, int StepSize = 5000, double Lr = 0.003, double WeightDecay = 1e-6,
    double MinScale = 0.1, double MaxScale = 0.5, int BatchSize = 16, long Seed = 31, int CheckpointEvery = 1000, int Workers = 4)
{
    /// <summary>Momentum of the SGD, fixed in the published script.</summary>
    public const double Momentum = 0.9;
    /// <summary>Most L2 norm of the gradient of all trained parameters, fixed in the published script.</summary>
    public const double ClipNorm = 10;
    /// <summary>Random crops summed at test time with <see cref="EvalRandomCrops"/> (and crops of TenCrop otherwise).</summary>
    public const int TestCrops = 10;

    /// <summary>The split tested: <c>val</c> after <c>train</c>, <c>test</c> after <c>trainval</c>.</summary>
    [JsonIgnore]
    public string TestSplit => Split == "trainval" ? "test" : "val";

    /// <summary>The settings two runs must share for one to continue the other.</summary>
    [JsonIgnore]
    public VocEvalSettings Identity => this with { Nit = 0, CheckpointEvery = 0, Workers = 0 };

    /// <summary>The learning rate of iteration <paramref name="iteration"/> (0-based): halved every <see cref="StepSize"/> iterations.</summary>
    public double LearningRateAt(long iteration) => Lr * Math.Pow(0.5, iteration / StepSize);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first flag out of range.</summary>
    public void Validate()
    {
        if (Split is not ("train" or "trainval")) throw new ArgumentException($"--split {Split}: choose train or trainval.");
        if (Nit < 0) throw new ArgumentException($"--nit {Nit}: must be 0 or more.");
        if (StepSize <= 0) throw new ArgumentException($"--stepsize {StepSize}: must be at least 1.");
        if (!(Lr > 0) || double.IsInfinity(Lr)) throw new ArgumentException($"--lr {Lr}: must be a positive number.");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) throw new ArgumentException($"--wd {WeightDecay}: must be 0 or more.");
        if (!(MinScale > 0) || MinScale > 1) throw new ArgumentException($"--min_scale {MinScale}: must be in (0, 1].");
        if (!(MaxScale >= MinScale) || MaxScale > 1) throw new ArgumentException($"--max_scale {MaxScale}: must be in [--min_scale, 1].");
        if (BatchSize <= 0) throw new ArgumentException($"--batch_size {BatchSize}: must be at least 1.");
        if (CheckpointEvery <= 0) throw new ArgumentException($"--checkpoint_every {CheckpointEvery}: must be at least 1.");
        if (Workers <= 0) throw new ArgumentException($"--workers {Workers}: must be at least 1.");
        if (TrainBatchNorm && !Fc6To8) throw new ArgumentException("--train_batchnorm 1: only with --fc6_8 1 (fine-tuning everything trains BatchNorm anyway).");
    }
}
