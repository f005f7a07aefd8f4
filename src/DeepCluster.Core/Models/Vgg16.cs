using static TorchSharp.torch.nn;

namespace DeepCluster.Core.Models;

/// <summary>
/// VGG16 as in the published DeepCluster code: 13 3×3 convs, each followed by BN and ReLU, MaxPool(2,2) after
/// each block; classifier Linear(25088,4096)-ReLU-Dropout-Linear(4096,4096)-ReLU.
/// </summary>
public sealed class Vgg16 : DeepClusterNet
{
    public Vgg16(bool sobel, int numClasses = 1000)
        : base("vgg16", Layers.Features(sobel ? 2 : 3, Config, poolKernel: 2, poolStride: 2),
               Sequential(Linear(512 * 7 * 7, 4096), ReLU(inplace: true), Dropout(0.5),
                          Linear(4096, 4096), ReLU(inplace: true)),
               4096, numClasses, sobel, 224) { }

    static readonly LayerSpec[] Config = Build();

    static LayerSpec[] Build()
    {
        var list = new List<LayerSpec>();
        foreach (var (width, count) in new[] { (64, 2), (128, 2), (256, 3), (512, 3), (512, 3) })
        {
            for (int i = 0; i < count; i++) list.Add(LayerSpec.Conv(width, 3, 1, 1));
            list.Add(LayerSpec.Pool);
        }
        return list.ToArray();
    }
}
