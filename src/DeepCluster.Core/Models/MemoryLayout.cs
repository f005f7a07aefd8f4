using static TorchSharp.torch;

namespace DeepCluster.Core.Models;

/// <summary>
/// Channels-last (NHWC in memory, NCHW in shape) for convolutions: oneDNN on CPU and cuDNN on GPU run it faster
/// (measured on alexnet_small, 2 cores: inference +40%, training +25%). TorchSharp 0.107 has no
/// <c>memory_format</c> argument, so the layout is made by permuting to NHWC, copying and permuting back.
/// </summary>
public static class MemoryLayout
{
    /// <summary>The same values with channels-last strides (a copy unless already so); non-4-D tensors are returned as they are.</summary>
    public static Tensor ToChannelsLast(this Tensor t) =>
        t.dim() != 4 || IsChannelsLast(t) ? t : t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    public static bool IsChannelsLast(Tensor t)
    {
        if (t.dim() != 4) return false;
        var s = t.stride();
        var (c, h, w) = (t.shape[1], t.shape[2], t.shape[3]);
        return s[1] == 1 && s[3] == c && s[2] == c * w && (t.shape[0] == 1 || s[0] == c * h * w);
    }

    /// <summary>Gives every 4-D parameter of <paramref name="module"/> channels-last strides, in place.</summary>
    public static void ToChannelsLast(TorchSharp.torch.nn.Module module)
    {
        using var _ = no_grad();
        foreach (var (_, p) in module.named_parameters())
            if (p.dim() == 4 && !IsChannelsLast(p))
                using (NewDisposeScope()) p.set_(p.ToChannelsLast());   // the permuted views and the copy die here, not in the finalizer
    }
}
