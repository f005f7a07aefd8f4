using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DeepCluster.Core.Models;

/// <summary>
/// AlexNet as in the published DeepCluster code (BN after each conv, 224×224 input):
/// conv(96,11,s4,p2)-BN-ReLU-MaxPool(3,2) → conv(256,5,p2)-BN-ReLU-MaxPool → conv(384,3,p1)-BN-ReLU
/// → conv(384,3,p1)-BN-ReLU → conv(256,3,p1)-BN-ReLU-MaxPool; classifier Dropout-Linear(9216,4096)-ReLU-Dropout-Linear(4096,4096)-ReLU.
/// </summary>
public sealed class AlexNet : DeepClusterNet
{
    public AlexNet(bool sobel, int numClasses = 1000)
        : base("alexnet", Layers.Features(sobel ? 2 : 3, Config, poolKernel: 3, poolStride: 2),
               Layers.AlexClassifier(256 * 6 * 6, 4096), 4096, numClasses, sobel, 224) { }

    static readonly LayerSpec[] Config =
    [
        LayerSpec.Conv(96, 11, 4, 2), LayerSpec.Pool, LayerSpec.Conv(256, 5, 1, 2), LayerSpec.Pool,
        LayerSpec.Conv(384, 3, 1, 1), LayerSpec.Conv(384, 3, 1, 1), LayerSpec.Conv(256, 3, 1, 1), LayerSpec.Pool,
    ];
}

/// <summary>
/// The DeepCluster AlexNet scaled down for 28×28 images (the benchmark protocol's <c>alexnet_small</c>):
/// convs 32-64-128-128-64 with BN, pools 2×2, classifier 576→512→512.
/// </summary>
public sealed class AlexNetSmall : DeepClusterNet
{
    public AlexNetSmall(bool sobel, int numClasses = 1000)
        : base("alexnet_small", Layers.Features(sobel ? 2 : 3, Config, poolKernel: 2, poolStride: 2),
               Layers.AlexClassifier(64 * 3 * 3, 512), 512, numClasses, sobel, 28) { }

    static readonly LayerSpec[] Config =
    [
        LayerSpec.Conv(32, 5, 1, 2), LayerSpec.Pool, LayerSpec.Conv(64, 5, 1, 2), LayerSpec.Pool,
        LayerSpec.Conv(128, 3, 1, 1), LayerSpec.Conv(128, 3, 1, 1), LayerSpec.Conv(64, 3, 1, 1), LayerSpec.Pool,
    ];
}
