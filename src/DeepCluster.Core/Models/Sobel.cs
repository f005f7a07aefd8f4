using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DeepCluster.Core.Models;

/// <summary>
/// The frozen Sobel filtering of the published models: a 1×1 conv averaging RGB to grey (weights 1/3),
/// then a 3×3 conv with the horizontal and vertical Sobel kernels. Two output channels.
/// </summary>
public static class Sobel
{
    public static Sequential Create()
    {
        var grayscale = Conv2d(3, 1, kernel_size: 1L, stride: 1L, padding: 0L);
        var filter = Conv2d(1, 2, kernel_size: 3L, stride: 1L, padding: 1L);
        // The kernels and the indexed views are temporaries: the scope frees them here, on this thread, rather than
        // leaving them to the finalizer thread while another thread trains (see NativeLifetime). The modules are made
        // outside the scope, which would otherwise take their parameters too.
        using (no_grad())
        using (NewDisposeScope())
        {
            grayscale.weight!.fill_(1.0 / 3.0);
            grayscale.bias!.zero_();
            var kx = tensor(new float[] { 1, 0, -1, 2, 0, -2, 1, 0, -1 }).reshape(3, 3);
            var ky = tensor(new float[] { 1, 2, 1, 0, 0, 0, -1, -2, -1 }).reshape(3, 3);
            filter.weight![0, 0].copy_(kx);
            filter.weight![1, 0].copy_(ky);
            filter.bias!.zero_();
        }
        var seq = Sequential(grayscale, filter);
        foreach (var p in seq.parameters()) p.requires_grad = false;
        return seq;
    }
}
