namespace DeepCluster.Core.Data;

/// <summary>
/// The transforms of the published main.py. Feature pass: Resize(256), CenterCrop(224), ToTensor, Normalize
/// (for 28×28 models: ToTensor, Normalize only). Training: RandomResizedCrop(224), RandomHorizontalFlip, ToTensor,
/// Normalize (for 28×28 models, as the protocol: RandomResizedCrop(28, scale 0.2–1)).
/// </summary>
public static class DeepClusterTransforms
{
    public static Compose For(bool training, int inputSize) => training ? Training(inputSize) : Features(inputSize);

    public static Compose Features(int inputSize) => inputSize >= 224
        ? new Compose(new Resize(inputSize * 256 / 224), new CenterCrop(inputSize), new ToTensor(), Normalization())
        : new Compose(new ToTensor(), Normalization());

    public static Compose Training(int inputSize) => inputSize >= 224
        ? new Compose(new RandomResizedCrop(inputSize), new RandomHorizontalFlip(), new ToTensor(), Normalization())
        : new Compose(new RandomResizedCrop(inputSize, scale: (0.2, 1.0)), new RandomHorizontalFlip(), new ToTensor(), Normalization());

    static Normalize Normalization() => new(ImageNetStats.Mean, ImageNetStats.Std);
}
