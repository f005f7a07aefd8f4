using DeepCluster.Core.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// A trunk frozen for a linear probe (the published <c>eval_linear.py</c>'s <c>forward</c> followed by <c>RegLog</c>'s
/// average pooling): eval mode (BatchNorm statistics frozen, no dropout), no gradients, the Sobel filter when the model
/// has one, then <c>features</c> up to and including the ReLU of <see cref="ProbeLayer.Relu"/>, average-pooled and
/// flattened in PyTorch's (C, H, W) order.
/// </summary>
public sealed class FrozenTrunk
{
    readonly Module<Tensor, Tensor>? sobel;
    readonly Module<Tensor, Tensor>[] layers;
    readonly AvgPool2d pool;

    /// <summary>The model read from.</summary>
    public DeepClusterNet Model { get; }
    /// <summary>Where it is read and how it is pooled.</summary>
    public ProbeLayer Layer { get; }

    public FrozenTrunk(DeepClusterNet model, ProbeLayer layer)
    {
        Model = model;
        Layer = layer;
        sobel = model.SobelFilter;
        var features = model.FeatureLayers;
        int relus = 0, end = -1;
        for (int i = 0; i < features.Count && end < 0; i++)
            if (features[i] is ReLU && ++relus == layer.Relu) end = i;
        if (end < 0) throw new ArgumentException($"--conv {layer.Conv}: {model.Arch} has only {relus} ReLUs in its features.");
        layers = features.Take(end + 1).ToArray();
        pool = AvgPool2d(layer.Kernel, layer.Stride, layer.Padding);
        model.Freeze();
    }

    /// <summary>The pooled features of a batch (N × C × H × W images) as an N × <see cref="ProbeLayer.Dim"/> tensor.</summary>
    public Tensor Features(Tensor images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Model.eval();
        var x = images.ToChannelsLast();
        if (sobel is not null) x = sobel.forward(x);
        foreach (var layer in layers) x = layer.forward(x);
        return pool.forward(x).flatten(1).contiguous().MoveToOuterDisposeScope();
    }
}
