using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DeepCluster.Core.Models;

/// <summary>One entry of a feature-extractor configuration: a conv (out, kernel, stride, padding) or a max-pool.</summary>
public readonly record struct LayerSpec(int Out, int Kernel, int Stride, int Padding, bool IsPool)
{
    public static LayerSpec Conv(int @out, int kernel, int stride, int padding) => new(@out, kernel, stride, padding, false);
    public static readonly LayerSpec Pool = new(0, 0, 0, 0, true);
}

/// <summary>Builders shared by the architectures (the published <c>make_layers_features</c>).</summary>
static class Layers
{
    /// <summary>conv-BN-ReLU per conv entry, MaxPool per pool entry; indices become the state-dict names.</summary>
    public static Sequential Features(int inChannels, IEnumerable<LayerSpec> config, int poolKernel, int poolStride)
    {
        var layers = new List<Module<Tensor, Tensor>>();
        foreach (var v in config)
        {
            if (v.IsPool) { layers.Add(MaxPool2d(poolKernel, poolStride)); continue; }
            layers.Add(Conv2d(inChannels, v.Out, kernel_size: (long)v.Kernel, stride: (long)v.Stride, padding: (long)v.Padding));
            layers.Add(BatchNorm2d(v.Out));
            layers.Add(ReLU(inplace: true));
            inChannels = v.Out;
        }
        return Sequential(layers);
    }

    /// <summary>Dropout-Linear(in,h)-ReLU-Dropout-Linear(h,h)-ReLU (AlexNet's classifier).</summary>
    public static Sequential AlexClassifier(int inFeatures, int hidden) =>
        Sequential(Dropout(0.5), Linear(inFeatures, hidden), ReLU(inplace: true),
                   Dropout(0.5), Linear(hidden, hidden), ReLU(inplace: true));
}
