using DeepCluster.Core.Data;

namespace DeepCluster.Core.Evaluation.Voc;

/// <summary>
/// The transforms of the published <c>eval_voc_classif.py</c> for an architecture whose input side is <c>size</c>
/// (224 there). Train, and test with random crops: RandomHorizontalFlip → RandomResizedCrop(size, scale
/// (min, max), ratio 1) → ToTensor → Normalize. Test with fixed crops: Resize(256) → TenCrop(224). For
/// <c>alexnet_small</c> (28×28) the crop is 28 (the scale range is a fraction of the image, so it carries over) and the
/// resize side is scaled like the crop, Resize(32) → TenCrop(28), as in <see cref="LinearEvalTransforms"/>.
/// </summary>
public static class VocTransforms
{
    /// <summary>Flip, then a square random resized crop of <paramref name="inputSize"/> (train, and random-crop test).</summary>
    public static Compose Random(int inputSize, double minScale, double maxScale) =>
        new(new RandomHorizontalFlip(), new RandomResizedCrop(inputSize, (minScale, maxScale), (1.0, 1.0)), new ToTensor(), Normalize.ImageNet());

    /// <summary>Resize to <see cref="LinearEvalTransforms.ResizeSide"/> and TenCrop(<paramref name="inputSize"/>).</summary>
    public static Compose TenCrops(int inputSize) =>
        new(new Resize(LinearEvalTransforms.ResizeSide(inputSize)), new TenCrop(inputSize), new ToTensor(), Normalize.ImageNet());
}
