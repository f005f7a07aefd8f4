namespace DeepCluster.Core.Models;

/// <summary>Creates a model by its <c>--arch</c> name, as <c>models.__dict__[args.arch](sobel=...)</c> does.</summary>
public static class ModelFactory
{
    public static readonly string[] Architectures = ["alexnet", "vgg16", "alexnet_small"];

    public static DeepClusterNet Create(string arch, bool sobel, int numClasses = 1000) => arch switch
    {
        "alexnet" => new AlexNet(sobel, numClasses),
        "vgg16" => new Vgg16(sobel, numClasses),
        "alexnet_small" => new AlexNetSmall(sobel, numClasses),
        _ => throw new ArgumentException($"--arch {arch}: unknown architecture; choose one of {string.Join(", ", Architectures)}."),
    };
}
