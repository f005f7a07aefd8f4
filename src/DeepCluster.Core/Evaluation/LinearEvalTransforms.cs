using DeepCluster.Core.Data;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// The transforms of the published <c>eval_linear.py</c>, for an architecture whose input side is <c>size</c>
/// (224 there). Train: Resize(256) → CenterCrop(256) → RandomCrop(224) → RandomHorizontalFlip; test: Resize(256) →
/// CenterCrop(224), or TenCrop(224) with <c>--tencrops</c>; ToTensor and ImageNet normalisation last. For another input
/// side every length is scaled by <c>size / 224</c> and rounded: for 28×28 (<c>alexnet_small</c>) Resize(32) →
/// CenterCrop(32) → RandomCrop(28), and Resize(32) → CenterCrop(28) or TenCrop(28).
/// </summary>
public static class LinearEvalTransforms
{
    /// <summary>The side the image is resized to before cropping: 256 for a 224 input, 32 for 28.</summary>
    public static int ResizeSide(int inputSize) => (int)Math.Round(inputSize * 256.0 / 224.0);

    /// <summary>Training: Resize → CenterCrop(resize side) → RandomCrop(input) → flip → ToTensor → Normalize.</summary>
    public static Compose Train(int inputSize)
    {
        int side = ResizeSide(inputSize);
        return new Compose(new Resize(side), new CenterCrop(side), new RandomCrop(inputSize), new RandomHorizontalFlip(),
                           new ToTensor(), Normalize.ImageNet());
    }

    /// <summary>Test: Resize → CenterCrop(input), or TenCrop(input) → ToTensor → Normalize. Deterministic.</summary>
    public static Compose Test(int inputSize, bool tenCrops) => tenCrops
        ? new Compose(new Resize(ResizeSide(inputSize)), new TenCrop(inputSize), new ToTensor(), Normalize.ImageNet())
        : new Compose(new Resize(ResizeSide(inputSize)), new CenterCrop(inputSize), new ToTensor(), Normalize.ImageNet());
}
