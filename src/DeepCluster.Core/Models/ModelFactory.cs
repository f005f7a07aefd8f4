using static TorchSharp.torch;
namespace DeepCluster.Core.Models;

/// <summary>Creates a model by its <c>--arch</c> name, as <c>models.__dict__[args.arch](sobel=...)</c> does.</summary>
public static class ModelFactory
{
    public static readonly string[] Architectures = ["alexnet", "vgg16", "alexnet_small"];

    /// <summary>
    /// Builds <paramref name="arch"/>. Built inside a dispose scope, from which the model's own parameters and buffers
    /// are then taken out: the temporaries that building leaves behind (TorchSharp's layers make some, e.g. a view of
    /// each conv weight to compute its fan-in; <c>zero_()</c> returns a new handle) are freed here, on this thread,
    /// instead of by the finalizer thread in the middle of a later training step (see <see cref="Native.NativeLifetime"/>).
    /// </summary>
    public static DeepClusterNet Create(string arch, bool sobel, int numClasses = 1000)
    {
        if (!Architectures.Contains(arch))
            throw new ArgumentException($"--arch {arch}: unknown architecture; choose one of {string.Join(", ", Architectures)}.");
        using var scope = NewDisposeScope();
        DeepClusterNet model = arch switch
        {
            "alexnet" => new AlexNet(sobel, numClasses),
            "vgg16" => new Vgg16(sobel, numClasses),
            _ => new AlexNetSmall(sobel, numClasses),
        };
        Native.NativeLifetime.KeepModuleTensors(model);
        return model;
    }
}
