using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DeepCluster.Core.Models;

/// <summary>
/// The published initialisation (<c>_initialize_weights</c>): conv weights N(0, sqrt(2 / (kh·kw·out))), bias 0;
/// BatchNorm weight 1, bias 0; Linear weights N(0, 0.01), bias 0.
/// </summary>
public static class Init
{
    public static void InitializeWeights(Module module)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();   // zero_() returns a new handle: freed here, not by the finalizer
        foreach (var (_, m) in module.named_modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    var shape = conv.weight!.shape;   // out, in, kh, kw
                    double n = shape[2] * shape[3] * shape[0];
                    conv.weight.normal_(0, Math.Sqrt(2.0 / n));
                    conv.bias?.zero_();
                    break;
                case BatchNorm2d bn:
                    bn.weight!.fill_(1);
                    bn.bias!.zero_();
                    break;
                case Linear lin:
                    InitLinear(lin);
                    break;
            }
        }
    }

    /// <summary>
    /// Linear weights N(0, 0.01), bias 0 — also used for the fresh head of every epoch. The weights are drawn from
    /// <paramref name="generator"/> when given (a CPU generator for a CPU layer), else from torch's default generator.
    /// </summary>
    public static void InitLinear(Linear lin, Generator? generator = null)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();   // zero_() returns a new handle: freed here, not by the finalizer
        lin.weight!.normal_(0, 0.01, generator);
        lin.bias?.zero_();
    }
}
