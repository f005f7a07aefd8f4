using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepCluster.Core.Training;

/// <summary>
/// The SGD steps of main.py's <c>train</c>: the trunk's optimiser (momentum, weight decay) lives across epochs;
/// each epoch gets a fresh head <c>Linear(fd, clusters)</c> initialised N(0, 0.01)/0 with its own SGD without
/// momentum; loss = cross-entropy against the pseudo-labels. Its random draws (the head's weights, the dropout masks)
/// come from the seeds the caller passes, so that a resumed run draws what the uninterrupted one drew
/// (see <see cref="TrainingSeeds"/>). With <see cref="Precision.Bf16"/> the forward pass runs under bf16 autocast
/// (<see cref="Autocast"/>) and the loss is computed in float32; the weights, their gradients and the momentum buffers
/// stay float32.
/// </summary>
public sealed class Trainer : IDisposable
{
    readonly DeepClusterNet model;
    readonly SgdSettings settings;
    readonly Device device;
    readonly CrossEntropyLoss criterion = nn.CrossEntropyLoss();
    optim.Optimizer? headOptimizer;

    /// <summary>The trunk optimiser (features + classifier, frozen Sobel excluded), as checkpointed.</summary>
    public SGD Optimizer { get; }

    /// <summary>The arithmetic of the forward pass (<c>--precision</c>).</summary>
    public Precision Precision { get; }

    /// <exception cref="ArgumentException"><paramref name="precision"/> cannot run on <paramref name="device"/> (<see cref="Bf16Support"/>).</exception>
    public Trainer(DeepClusterNet model, SgdSettings settings, Device device, Precision precision = Precision.Fp32)
    {
        Bf16Support.Require(precision, device);
        this.model = model;
        this.settings = settings;
        this.device = device;
        Precision = precision;
        Optimizer = optim.SGD(model.TrunkParameters(), settings.LearningRate, settings.Momentum,
                              weight_decay: settings.WeightDecay);
    }

    /// <summary>
    /// Installs a new head for <paramref name="clusters"/> pseudo-classes, as main.py does every epoch. Its weights are
    /// drawn on the CPU from a generator seeded with <paramref name="seed"/> (the same head on every device), or from
    /// torch's default generator when no seed is given.
    /// </summary>
    public void ResetHead(int clusters, long? seed = null)
    {
        if (clusters <= 0) throw new ArgumentOutOfRangeException(nameof(clusters), "the head needs at least one cluster");
        var old = model.TopLayer;
        var head = nn.Linear(model.FeatureDim, clusters);
        if (seed is { } s)
        {
            using var generator = new Generator((ulong)s, CPU);
            Init.InitLinear(head, generator);
        }
        else Init.InitLinear(head);
        head.to(device);
        model.SetTopLayer(head);
        old?.Dispose();
        headOptimizer?.Dispose();
        headOptimizer = optim.SGD(head.parameters(), settings.LearningRate, weight_decay: settings.WeightDecay);
    }

    /// <summary>
    /// One SGD step on a batch (images N×C×H×W, int64 pseudo-labels); returns the batch loss (not checked: NaN or
    /// infinite when training diverged). With <paramref name="dropoutSeed"/>, the default generator of the device
    /// (which the dropout layers draw from) is seeded with it first, so the step's masks depend on that seed alone.
    /// </summary>
    public float Step(Tensor images, Tensor labels, long? dropoutSeed = null)
    {
        if (headOptimizer is null) throw new InvalidOperationException("ResetHead must be called before training");
        if (dropoutSeed is { } seed) SeedDevice(seed);
        using var scope = NewDisposeScope();
        model.train();
        var x = images.device == device ? images : images.to(device);
        var y = labels.device == device ? labels : labels.to(device);
        Tensor output;
        using (Autocast.Enter(device, Precision)) output = model.forward(x);
        var loss = criterion.forward(output.to(float32), y);   // float32 already: the same tensor
        Optimizer.zero_grad();
        headOptimizer.zero_grad();
        loss.backward();
        Optimizer.step();
        headOptimizer.step();
        return loss.item<float>();
    }

    /// <summary>
    /// The name of the first model parameter or floating-point buffer (BatchNorm statistics) that holds a NaN or an
    /// infinity, or null when all are finite: a diverged model must not become a durable point. The momentum buffers
    /// need no check: a step that makes one non-finite makes its parameter non-finite too.
    /// </summary>
    public string? FirstNonFinite()
    {
        using var scope = NewDisposeScope();
        foreach (var (name, p) in model.named_parameters())
            if (!p.isfinite().all().item<bool>()) return name;
        foreach (var (name, b) in model.named_buffers())
            if (b.is_floating_point() && !b.isfinite().all().item<bool>()) return name;
        return null;
    }

    /// <summary>
    /// Seeds torch's default generator of the training device (the one dropout draws from; TorchSharp's dropout takes
    /// no generator) and the CPU's. Nothing else in the process draws from them while a step runs: the feature pass
    /// (eval mode) draws nothing, and phases do not overlap.
    /// </summary>
    void SeedDevice(long seed)
    {
        using (random.manual_seed(seed)) { }      // disposes the returned handle, not the generator
        if (device.type == DeviceType.CUDA) cuda.manual_seed_all(seed);
    }

    public void Dispose()
    {
        headOptimizer?.Dispose();
        Optimizer.Dispose();
        criterion.Dispose();
    }
}
