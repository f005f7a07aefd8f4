using DeepCluster.Core.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>
/// The convolutional trunk R-MAC reads, as the published script builds it (<c>list(net.features.children())[:-1]</c>):
/// the Sobel filter when the model has one, then <c>features</c> without its last module, the final max-pool — VGG16's
/// conv5_3 ReLU (512 channels, stride 16), AlexNet's conv5 ReLU (256, stride 16 before padding effects) or
/// <c>alexnet_small</c>'s conv5 ReLU (64, stride 4). Eval mode, no gradients.
/// </summary>
public sealed class RetrievalTrunk
{
    readonly Module<Tensor, Tensor>? sobel;
    readonly Module<Tensor, Tensor>[] layers;
    readonly DeepClusterNet model;

    /// <summary>Channels of the feature map (the region descriptors' dimension).</summary>
    public int Channels { get; }

    public RetrievalTrunk(DeepClusterNet model)
    {
        this.model = model;
        sobel = model.SobelFilter;
        var features = model.FeatureLayers;
        if (features.Count == 0 || features[^1] is not TorchSharp.Modules.MaxPool2d)
            throw new ArgumentException($"{model.Arch}: its features do not end in a max-pool; R-MAC reads the map before it.");
        layers = features.Take(features.Count - 1).ToArray();
        Channels = (int)layers.OfType<TorchSharp.Modules.Conv2d>().Last().weight!.shape[0];
        model.Freeze();
    }

    /// <summary>The feature map [1, C, h, w] of one normalised image [1, 3, H, W] (which stays the caller's).</summary>
    public Tensor Forward(Tensor image)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        model.eval();
        var x = image.ToChannelsLast();
        if (sobel is not null) x = sobel.forward(x);
        foreach (var layer in layers)
        {
            // Each activation is freed as soon as the next exists: a 1024-pixel VGG16 pass holds one or two maps, not all 30.
            var next = layer.forward(x);
            if (!ReferenceEquals(next, x) && !ReferenceEquals(x, image)) x.Dispose();
            x = next;
        }
        return x.contiguous().MoveToOuterDisposeScope();
    }
}
