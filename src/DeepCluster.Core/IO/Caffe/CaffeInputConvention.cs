using DeepCluster.Core.Data;
using static TorchSharp.torch;

namespace DeepCluster.Core.IO.Caffe;

/// <summary>
/// The input the released Caffe models expect, and how it is made ours. The published README: "The models in Caffe
/// format expect BGR inputs that range in [0, 255]" (the mean/std normalisation is inside the model); ours, like the
/// PyTorch models, take RGB in [0, 1] normalised by the ImageNet mean and std. With x our input, the Caffe input is
/// <c>v[2 - c] = 255 · (std[c] · x[c] + mean[c])</c>, an affine map per channel, so it is folded into the weights of
/// the first convolution, which then takes our input: <c>W'[:, c] = 255 · std[c] · W[:, 2 - c]</c> and
/// <c>b' = b + Σ 255 · mean[c] · W[:, 2 - c]</c>. The fold is exact for a 1×1 convolution without padding, the grey
/// conv that starts the Sobel filtering of every released model. For a padded first convolution (a Caffe model without
/// Sobel) Caffe pads with 0 in BGR 0–255 while the folded conv pads with 0 in our space (the mean colour), so the
/// outputs differ in the border pixels the padding reaches.
/// </summary>
public static class CaffeInputConvention
{
    /// <summary>
    /// Folds the conversion from our normalised RGB input to Caffe's BGR 0–255 into a convolution over 3 input
    /// channels: returns the weight and bias that, applied to our input, give what <paramref name="weight"/> and
    /// <paramref name="bias"/> give on Caffe's. Computed in float64, returned as new float32 tensors.
    /// </summary>
    public static (Tensor Weight, Tensor Bias) Fold(Tensor weight, Tensor bias)
    {
        if (weight.dim() != 4 || weight.shape[1] != 3)
            throw new ArgumentException($"a convolution over 3 input channels, not ({string.Join(", ", weight.shape)})");
        using var scope = NewDisposeScope();
        var w = weight.to(ScalarType.Float64).flip(1);                     // channel c of ours reads channel 2 - c of Caffe's
        var std = tensor(ImageNetStats.Std.Select(s => 255.0 * s).ToArray()).view(1, 3, 1, 1);
        var mean = tensor(ImageNetStats.Mean.Select(m => 255.0 * m).ToArray()).view(1, 3, 1, 1);
        var folded = (w * std).to(ScalarType.Float32).contiguous();
        var shift = (bias.to(ScalarType.Float64) + (w * mean).sum(new long[] { 1, 2, 3 })).to(ScalarType.Float32).contiguous();
        return (folded.MoveToOuterDisposeScope(), shift.MoveToOuterDisposeScope());
    }
}
