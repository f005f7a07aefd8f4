using DeepCluster.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepCluster.Core.Training;

/// <summary>
/// The SGD steps of main.py's <c>train</c>: the trunk's optimiser (momentum, weight decay) lives across epochs;
/// each epoch gets a fresh head <c>Linear(fd, clusters)</c> initialised N(0, 0.01)/0 with its own SGD without
/// momentum; loss = cross-entropy against the pseudo-labels.
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

    public Trainer(DeepClusterNet model, SgdSettings settings, Device device)
    {
        this.model = model;
        this.settings = settings;
        this.device = device;
        Optimizer = optim.SGD(model.TrunkParameters(), settings.LearningRate, settings.Momentum,
                              weight_decay: settings.WeightDecay);
    }

    /// <summary>Installs a new head for <paramref name="clusters"/> pseudo-classes, as main.py does every epoch.</summary>
    public void ResetHead(int clusters)
    {
        if (clusters <= 0) throw new ArgumentOutOfRangeException(nameof(clusters), "the head needs at least one cluster");
        var old = model.TopLayer;
        var head = nn.Linear(model.FeatureDim, clusters);
        Init.InitLinear(head);
        head.to(device);
        model.SetTopLayer(head);
        old?.Dispose();
        headOptimizer?.Dispose();
        headOptimizer = optim.SGD(head.parameters(), settings.LearningRate, weight_decay: settings.WeightDecay);
    }

    /// <summary>One SGD step on a batch (images N×C×H×W, int64 pseudo-labels); returns the batch loss.</summary>
    public float Step(Tensor images, Tensor labels)
    {
        if (headOptimizer is null) throw new InvalidOperationException("ResetHead must be called before training");
        using var scope = NewDisposeScope();
        model.train();
        var x = images.device == device ? images : images.to(device);
        var y = labels.device == device ? labels : labels.to(device);
        var output = model.forward(x);
        var loss = criterion.forward(output, y);
        Optimizer.zero_grad();
        headOptimizer.zero_grad();
        loss.backward();
        Optimizer.step();
        headOptimizer.step();
        return loss.item<float>();
    }

    public void Dispose()
    {
        headOptimizer?.Dispose();
        Optimizer.Dispose();
        criterion.Dispose();
    }
}
