using DeepCluster.Actors.DataLoading;

namespace DeepCluster.Actors.Features;

/// <summary>
/// Computes the features of the whole dataset with the model saved at <paramref name="ModelPath"/> into
/// <paramref name="OutPath"/> (.npy, row i = image i). <paramref name="Done"/>: ranges already computed and journaled
/// in this epoch (after a crash); those whose file is intact are not computed again. <paramref name="Precision"/>: the
/// forward pass's arithmetic, fp32 or bf16 (<c>--precision</c>); the features are float32 either way.
/// </summary>
public sealed record ExtractFeatures(
    int Epoch, string ModelPath, string Arch, bool Sobel, DatasetSpec Dataset, int BatchSize, int Workers,
    string? Device, string OutPath, FeatureRangeFile[]? Done = null, string Precision = "fp32");

/// <summary>The N×D float32 features are in <paramref name="Path"/> (.npy).</summary>
public sealed record FeaturesExtracted(int Epoch, string Path, int Count, int Dim, double Seconds, string? TrueLabelsPath);

/// <summary>The feature pass failed; the message says why.</summary>
public sealed record FeaturesFailed(int Epoch, string Error);

/// <summary>
/// The feature rows of images <paramref name="Start"/> .. <paramref name="Start"/>+<paramref name="Count"/>-1 in
/// <paramref name="Path"/> (.npy, Count × D float32), of <paramref name="Size"/> bytes and xxHash3
/// <paramref name="Hash"/> (as <see cref="Core.Experiment.Artifact"/> measures them).
/// </summary>
public sealed record FeatureRangeFile(int Start, int Count, string Path, long Size, string Hash)
{
    /// <summary>One past the last image of the range.</summary>
    public int End => Start + Count;
}

/// <summary>
/// Told to the requester of <see cref="ExtractFeatures"/> for each range as it is finished, before
/// <see cref="FeaturesExtracted"/>: the experiment journals it, so that a resumed epoch does not compute it again.
/// </summary>
public sealed record FeatureRangeWritten(int Epoch, FeatureRangeFile Range);
