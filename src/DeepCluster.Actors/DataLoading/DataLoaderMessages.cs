using DeepCluster.Core.Data;
using TorchSharp;

namespace DeepCluster.Actors.DataLoading;

/// <summary>Which dataset to read; resolved by the loader itself, so the message can cross machines.</summary>
public sealed record DatasetSpec(string Path, string Format = "auto", string Split = "train", int? Limit = null, bool SkipBadFiles = false);

/// <summary>The feature pass reads images as they are (eval); training augments them.</summary>
public enum TransformKind { Features, Training }

/// <summary>
/// Starts a stream of batches for the sender. <paramref name="OrderPath"/>/<paramref name="LabelsPath"/> are .npy files
/// (int64) with the dataset indices and pseudo-labels in training order; null = every image once, in dataset order.
/// Batches are sent only as the consumer asks for them (<see cref="PullBatches"/>): the consumer sets the pace.
/// <paramref name="RangeCount"/> (with <paramref name="RangeStart"/>): only the images RangeStart .. RangeStart+RangeCount-1,
/// in dataset order (one range of a distributed feature pass); not with an order file.
/// </summary>
public sealed record OpenStream(
    string StreamId, DatasetSpec Dataset, TransformKind Transform, int InputSize, int BatchSize, int Workers,
    long Seed, int Epoch, string? OrderPath = null, string? LabelsPath = null, int StartBatch = 0,
    int RangeStart = 0, int? RangeCount = null);

/// <summary>Asks for <paramref name="Count"/> more batches.</summary>
public sealed record PullBatches(string StreamId, int Count = 1);

/// <summary>Stops a stream early and frees its decoders.</summary>
public sealed record CloseStream(string StreamId);

/// <summary>The stream is ready: how many samples and batches it will deliver (from <c>StartBatch</c> on).</summary>
public sealed record StreamOpened(string StreamId, int Samples, int Batches, int DatasetSize, int[]? TrueLabels);

/// <summary>
/// One batch: images as a flat float32 array of <paramref name="Shape"/> (N×3×H×W), labels and dataset indices.
/// Plain arrays, so the message serialises when the consumer runs on another node. On one node the image array is the
/// one the decoders wrote (rented from <see cref="BatchBufferPool"/>; no copy on the way): it belongs to the consumer,
/// which computes on <see cref="ImagesTensor"/> and then calls <see cref="Release"/> (also for a batch it drops).
/// Any float[] of the shape's size makes a valid message (Release then does nothing).
/// </summary>
public sealed record BatchLoaded(string StreamId, int Number, float[] Images, long[] Shape, long[] Labels, int[] Indices)
{
    /// <summary>A tensor of <see cref="Shape"/> over <see cref="Images"/> (no copy): dispose it before <see cref="Release"/>.</summary>
    public torch.Tensor ImagesTensor() => BatchLoader.ImageView(Images, Shape);

    /// <summary>Gives the image array back to the loader's pool; no tensor may view it any more. Safe to call twice.</summary>
    public void Release() => BatchBufferPool.ReturnToOwner(Images);
}

/// <summary>All batches were delivered; <paramref name="Skipped"/> unreadable files were left out (with --skip-bad-files).</summary>
public sealed record StreamCompleted(string StreamId, int Skipped);

/// <summary>The stream failed (e.g. an unreadable image); the message names the file.</summary>
public sealed record StreamFailed(string StreamId, string Error);

/// <summary>Asks how many images the dataset holds and their labels, without decoding any (the feature pass splits it).</summary>
public sealed record DescribeDataset(string RequestId, DatasetSpec Dataset);

/// <summary>The dataset of <see cref="DescribeDataset"/>: <paramref name="Count"/> images, their labels if it has any.</summary>
public sealed record DatasetDescribed(string RequestId, int Count, int[]? TrueLabels);

/// <summary>The dataset of <see cref="DescribeDataset"/> could not be opened; the message names it.</summary>
public sealed record DatasetUnavailable(string RequestId, string Error);
