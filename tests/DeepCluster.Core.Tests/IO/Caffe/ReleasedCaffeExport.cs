using DeepCluster.Core.Data;
using DeepCluster.Core.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.IO.Caffe;

/// <summary>
/// Writes one of our models as a caffemodel laid out like the released DeepCluster ones, which were converted from
/// PyTorch (pytorch2caffe: layers named after autograd functions, <c>ConvNdBackward5</c>; BatchNorm as Caffe's BatchNorm
/// + Scale pair) and take BGR input in 0–255 because the ImageNet normalisation is in the model: either folded into the
/// Sobel grey conv, or as a 1×1 conv of its own before it. The known weights the import tests check against.
/// </summary>
public static class ReleasedCaffeExport
{
    /// <summary>Where the conversion from BGR 0–255 to our normalised RGB lives in the written file.</summary>
    public enum Preprocessing { FoldedIntoGrey, SeparateConv }

    /// <summary>Changes to the layout, for the bad-input tests.</summary>
    /// <param name="ExtraLayerType">A weightless layer of this type inserted after the first max-pool.</param>
    /// <param name="DropLastConv">Leave out the trunk's last convolution.</param>
    public sealed record Damage(string? ExtraLayerType = null, bool DropLastConv = false);

    /// <summary>
    /// Writes <paramref name="model"/> (with Sobel) to <paramref name="path"/>; BatchNorm statistics are stored scaled
    /// by <paramref name="bnFactor"/>, with Caffe's eps <paramref name="bnEps"/> (the variance adjusted to keep the outputs).
    /// </summary>
    public static void Write(DeepClusterNet model, string path, Preprocessing pre = Preprocessing.FoldedIntoGrey,
                             float bnFactor = 1f, float bnEps = 1e-5f, Damage? damage = null)
    {
        if (!model.UsesSobel) throw new ArgumentException("the released models all have Sobel");
        using var scope = NewDisposeScope();
        var sd = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().to(ScalarType.Float32).contiguous());
        var w = new CaffeModelWriter();
        var id = 1;
        string Name(string function) => function + id++;

        var mean = tensor(ImageNetStats.Mean.ToArray());
        var std = tensor(ImageNetStats.Std.ToArray());
        var grey = sd["sobel.0.weight"].view(1, 3);
        if (pre == Preprocessing.SeparateConv)
        {
            // P maps BGR in 0–255 to normalised RGB: channel c of the output reads channel 2 - c of the input.
            var p = zeros(3, 3);
            for (var c = 0; c < 3; c++) p[c, 2 - c] = 1f / (255f * std[c]);
            w.Convolution(Name("ConvNdBackward"), p.view(3, 3, 1, 1), -mean / std, 1, 0);
            w.Convolution(Name("ConvNdBackward"), sd["sobel.0.weight"], sd["sobel.0.bias"], 1, 0);
        }
        else
        {
            var folded = (grey / (255f * std)).flip(1);
            var bias = sd["sobel.0.bias"] - (grey * mean / std).sum();
            w.Convolution(Name("ConvNdBackward"), folded.view(1, 3, 1, 1), bias, 1, 0);
        }
        w.Convolution(Name("ConvNdBackward"), sd["sobel.1.weight"], sd["sobel.1.bias"], 1, 1);

        var features = model.named_modules().Where(m => m.name.StartsWith("features.") && m.name.Count(ch => ch == '.') == 1).ToList();
        var lastConv = features.Last(m => m.module is Conv2d).name;
        var pooled = false;
        var skipping = false;
        foreach (var (name, module) in features)
        {
            switch (module)
            {
                case Conv2d:
                    skipping = damage?.DropLastConv == true && name == lastConv;
                    if (skipping) break;
                    var kernel = (int)sd[name + ".weight"].shape[2];
                    var (stride, pad) = kernel == 11 ? (4, 2) : (1, kernel / 2);
                    w.Convolution(Name("ConvNdBackward"), sd[name + ".weight"], sd[name + ".bias"], stride, pad);
                    break;
                case BatchNorm2d:
                    if (skipping) break;
                    var n = Name("BatchNormBackward");
                    var variance = sd[name + ".running_var"] + (CaffeLayerEps - bnEps);
                    w.BatchNorm(n + "_bn", sd[name + ".running_mean"] * bnFactor, variance * bnFactor, bnFactor, bnEps);
                    w.Scale(n + "_scale", sd[name + ".weight"], sd[name + ".bias"]);
                    break;
                case ReLU:
                    if (skipping) { skipping = false; break; }
                    w.Layer(Name("ThresholdBackward"), "ReLU");
                    break;
                case MaxPool2d:
                    w.MaxPool(Name("MaxPool2dBackward"), model.Arch == "alexnet" ? 3 : 2, 2);
                    if (!pooled && damage?.ExtraLayerType is { } extra) w.Layer("norm1", extra);
                    pooled = true;
                    break;
            }
        }
        foreach (var (name, module) in model.named_modules().Where(m => m.name.StartsWith("classifier.")))
        {
            switch (module)
            {
                case Dropout: w.Layer(Name("DropoutBackward"), "Dropout"); break;
                case Linear: w.InnerProduct(Name("AddmmBackward"), sd[name + ".weight"], sd[name + ".bias"]); break;
                case ReLU: w.Layer(Name("ThresholdBackward"), "ReLU"); break;
            }
        }
        if (model.TopLayer is not null) w.InnerProduct(Name("AddmmBackward"), sd["top_layer.weight"], sd["top_layer.bias"]);
        w.Write(path);
    }

    const float CaffeLayerEps = 1e-5f;
}
