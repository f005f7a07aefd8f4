using DeepCluster.Core.Evaluation;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using TorchSharp;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// The model flags every eval command shares: <c>--model FILE</c> (ours, or a released PyTorch or Caffe model), or
/// <c>--arch</c> (with <c>--sobel</c>) for a randomly initialised baseline drawn from the seed.
/// </summary>
static class EvalModelFlags
{
    /// <summary>A wrong combination of the flags is an <see cref="ArgumentException"/> naming the flag.</summary>
    public static void Check(string? model, string arch, bool sobel)
    {
        if (model is null && arch.Length == 0)
            throw new ArgumentException("--model or --arch: give a model file, or the architecture of a randomly initialised model.");
        if (model is not null && sobel)
            throw new ArgumentException("--sobel: only for a randomly initialised model (a --model file says whether it has Sobel).");
    }

    /// <summary>Checks the flags (<see cref="Check"/>), picks the device and loads the model.</summary>
    public static (DeepClusterNet Net, torch.Device Device) Load(string? model, string arch, bool sobel, long seed, string? device)
    {
        Check(model, arch, sobel);
        var dev = TorchRuntime.ResolveDevice(device);
        TorchRuntime.FlushDenormals();
        return (EvaluatedModel.Load(model, arch.Length > 0 ? arch : null, sobel, seed, dev), dev);
    }
}
