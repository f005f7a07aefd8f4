namespace DeepCluster.Core.Evaluation;

/// <summary>
/// Where a linear probe reads a trunk and how it pools there: after the ReLU number <see cref="Relu"/> (1-based,
/// counted through <c>features</c> as the published <c>eval_linear.py</c> counts), an <c>AvgPool2d(Kernel, Stride,
/// Padding)</c> (zero padding counted in the average, PyTorch's default), giving <see cref="Channels"/> ×
/// <see cref="PooledSide"/>² features from a <see cref="Side"/>² map at the architecture's input size.
/// </summary>
public sealed record ProbeLayer(string Arch, int Conv, int Relu, int Channels, int Side, int Kernel, int Stride, int Padding)
{
    /// <summary>Side of the pooled map: <c>floor((Side + 2·Padding − Kernel) / Stride) + 1</c>.</summary>
    public int PooledSide => (Side + 2 * Padding - Kernel) / Stride + 1;

    /// <summary>Input dimension of the linear classifier.</summary>
    public int Dim => Channels * PooledSide * PooledSide;

    /// <summary>
    /// The probe of <c>--conv</c> <paramref name="conv"/> (1..5) for <paramref name="arch"/>.
    /// <list type="bullet">
    /// <item><c>alexnet</c> (224×224): the published <c>RegLog</c> table, 9 216–9 600 dims.</item>
    /// <item><c>alexnet_small</c> (28×28): conv i after its ReLU as for AlexNet; at 28×28 conv5 holds only 3 136 values,
    /// so the target is about 2 000 dims (a 4×4 to 8×8 grid): 32×8×8, 64×5×5, 128×4×4, 128×4×4, 64×4×4.</item>
    /// <item><c>vgg16</c> (224×224): conv i is the last conv of block i (conv1_2, conv2_2, conv3_3, conv4_3, conv5_3:
    /// ReLU 2, 4, 7, 10, 13), pooled to 8 192–10 368 dims like AlexNet's ~9 600 (the published code only handles AlexNet).</item>
    /// </list>
    /// </summary>
    /// <exception cref="ArgumentException">Unknown architecture or conv outside 1..5.</exception>
    public static ProbeLayer For(string arch, int conv)
    {
        if (conv is < 1 or > 5) throw new ArgumentException($"--conv {conv}: choose a conv layer from 1 to 5.");
        var (relu, channels, side, kernel, stride, padding) = (arch, conv) switch
        {
            ("alexnet", 1) => (1, 96, 55, 6, 6, 3),
            ("alexnet", 2) => (2, 256, 27, 4, 4, 0),
            ("alexnet", 3) => (3, 384, 13, 3, 3, 1),
            ("alexnet", 4) => (4, 384, 13, 3, 3, 1),
            ("alexnet", 5) => (5, 256, 13, 2, 2, 0),
            ("alexnet_small", 1) => (1, 32, 28, 4, 4, 2),
            ("alexnet_small", 2) => (2, 64, 14, 3, 3, 1),
            ("alexnet_small", 3) => (3, 128, 7, 2, 2, 1),
            ("alexnet_small", 4) => (4, 128, 7, 2, 2, 1),
            ("alexnet_small", 5) => (5, 64, 7, 2, 2, 1),
            ("vgg16", 1) => (2, 64, 224, 18, 18, 0),
            ("vgg16", 2) => (4, 128, 112, 12, 12, 0),
            ("vgg16", 3) => (7, 256, 56, 9, 9, 0),
            ("vgg16", 4) => (10, 512, 28, 7, 7, 0),
            ("vgg16", 5) => (13, 512, 14, 4, 4, 1),
            _ => throw new ArgumentException($"--arch {arch}: no linear-probe layout; choose alexnet, vgg16 or alexnet_small."),
        };
        return new ProbeLayer(arch, conv, relu, channels, side, kernel, stride, padding);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"conv{Conv} ({Channels}×{Side}×{Side}) avgpool({Kernel},{Stride},{Padding}) → {Channels}×{PooledSide}×{PooledSide} = {Dim}";
}
