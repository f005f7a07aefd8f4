namespace DeepCluster.Core.Training;

/// <summary>
/// The arithmetic of the convolutions and linear layers (<c>--precision</c>): <see cref="Fp32"/> throughout, or
/// <see cref="Bf16"/> the way PyTorch's <c>torch.autocast(dtype=torch.bfloat16)</c> runs a model (see
/// <see cref="Native.Autocast"/>). Weights, optimiser state, checkpoints and features stay float32 either way.
/// </summary>
public enum Precision
{
    Fp32,
    Bf16,
}

/// <summary>The names of <see cref="Precision"/> on the command line and in <c>config.json</c>.</summary>
public static class PrecisionNames
{
    /// <summary>The values <c>--precision</c> accepts.</summary>
    public static readonly string[] All = ["fp32", "bf16"];

    public static string Name(this Precision p) => p == Precision.Bf16 ? "bf16" : "fp32";

    /// <summary><c>fp32</c> or <c>bf16</c>; anything else is a user error naming <c>--precision</c>.</summary>
    public static Precision Parse(string name) => name switch
    {
        "fp32" => Precision.Fp32,
        "bf16" => Precision.Bf16,
        _ => throw new ArgumentException($"--precision {name}: choose fp32 or bf16."),
    };
}
