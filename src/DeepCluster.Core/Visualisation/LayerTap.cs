using DeepCluster.Core.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DeepCluster.Core.Visualisation;

/// <summary>
/// The conv layer a visualisation looks at, as the published <c>visu/</c> scripts reach it: <c>--conv N</c> counts the
/// convs of <c>features</c> from 1 (AlexNet 1–5, VGG16 1–13, the published <c>CONV</c> table; <c>alexnet_small</c> 1–5),
/// and the forward pass runs the Sobel filter when the model has one, then <c>features</c> up to and including the ReLU
/// of conv N. Eval mode (BatchNorm statistics frozen), the model's parameters frozen; no input normalisation here.
/// </summary>
public sealed class LayerTap
{
    readonly Module<Tensor, Tensor>? sobel;
    readonly Module<Tensor, Tensor>[] layers;
    readonly int convAt;

    /// <summary>The model read from.</summary>
    public DeepClusterNet Model { get; }
    /// <summary>The conv layer, 1-based.</summary>
    public int Conv { get; }
    /// <summary>Its filters (output channels).</summary>
    public int Channels { get; }

    /// <exception cref="ArgumentException"><paramref name="conv"/> is not one of the model's conv layers.</exception>
    public LayerTap(DeepClusterNet model, int conv)
    {
        Model = model;
        Conv = conv;
        sobel = model.SobelFilter;
        var features = model.FeatureLayers;
        int convs = features.Count(m => m is Conv2d);
        if (conv < 1 || conv > convs) throw new ArgumentException($"--conv {conv}: {model.Arch} has conv layers 1 to {convs}.");
        int seen = 0, at = -1, relu = -1;
        for (int i = 0; i < features.Count && relu < 0; i++)
        {
            if (features[i] is Conv2d && ++seen == conv) at = i;
            else if (at >= 0 && features[i] is ReLU) relu = i;
        }
        if (relu < 0) throw new ArgumentException($"--conv {conv}: conv {conv} of {model.Arch} is not followed by a ReLU.");
        convAt = at;
        layers = features.Take(relu).ToArray();
        Channels = (int)((Conv2d)features[at]).weight!.shape[0];
        model.Freeze();
    }

    /// <summary>How many conv layers <paramref name="model"/>'s <c>features</c> hold.</summary>
    public static int ConvCount(DeepClusterNet model) => model.FeatureLayers.Count(m => m is Conv2d);

    /// <summary>
    /// Runs <paramref name="images"/> (N × 3 × H × W, as the caller prepared them) to conv N. <c>Relu</c> is the layer's
    /// output after its ReLU; <c>Conv</c> is what the published <c>gradient_ascent.py</c> falls back on for a dead filter:
    /// the output of the conv module itself, before its BatchNorm (its <c>forward</c> keeps <c>res = x</c> right after the
    /// <c>nn.Conv2d</c>). Both are differentiable when <paramref name="images"/> requires a gradient; the ReLUs are applied
    /// out of place so that autograd never sees a tensor changed under it.
    /// </summary>
    public (Tensor Conv, Tensor Relu) Forward(Tensor images)
    {
        Model.eval();
        var x = images.ToChannelsLast();
        if (sobel is not null) x = sobel.forward(x);
        Tensor? conv = null;
        for (int i = 0; i < layers.Length; i++)
        {
            x = layers[i] is ReLU ? functional.relu(x) : layers[i].forward(x);
            if (i == convAt) conv = x;
        }
        return (conv!, functional.relu(x));
    }
}
