using System.Diagnostics;
using DeepCluster.Core.Data;
using DeepCluster.Core.Evaluation;
using static TorchSharp.torch;

namespace DeepCluster.Core.Visualisation;

/// <summary>One of a filter's top images: its position in the dataset, where it comes from, and its score.</summary>
public sealed record TopImage(int Index, string Path, float Score);

/// <summary>A filter's top images, the highest score first.</summary>
public sealed record FilterTopImages(int Filter, IReadOnlyList<TopImage> Images);

/// <summary>
/// The published <c>visu/activ-retrieval.py</c>: every image of a dataset goes through the transforms of the published
/// script (Resize(256), CenterCrop(224), ToTensor, ImageNet normalisation; scaled for a smaller input as
/// <see cref="LinearEvalTransforms.Test"/> scales them) and the model up to the ReLU of conv N; each filter's score for
/// an image is its spatially averaged activation there, and the <c>top</c> images with the largest scores are kept per
/// filter (ties: the earlier image first). Only the current top of each filter is held, so the dataset may be any size.
/// </summary>
public sealed class TopImages
{
    readonly LayerTap tap;
    readonly Device device;

    /// <summary>Images kept per filter.</summary>
    public int Top { get; }
    /// <summary>Images per forward pass.</summary>
    public int BatchSize { get; }
    /// <summary>Decoding threads.</summary>
    public int Workers { get; }

    /// <exception cref="ArgumentException"><paramref name="top"/> below 1.</exception>
    public TopImages(LayerTap tap, Device device, int top = 9, int batchSize = 64, int workers = 2)
    {
        if (top < 1) throw new ArgumentException($"--top {top}: keep 1 or more images per filter.");
        this.tap = tap;
        this.device = device;
        Top = top;
        BatchSize = batchSize;
        Workers = workers;
    }

    /// <summary>The transforms the images go through (the published script's, for the model's input side).</summary>
    public Compose Transform => LinearEvalTransforms.Test(tap.Model.InputSize, tenCrops: false);

    /// <summary>
    /// Scores every image of <paramref name="data"/>; returns the top images of each filter of the layer, filter by filter.
    /// <paramref name="progress"/> gets the batches done, the total and the images per second.
    /// </summary>
    public IReadOnlyList<FilterTopImages> Run(IImageDataset data, Action<int, int, double>? progress = null, CancellationToken ct = default)
    {
        int channels = tap.Channels;
        var kept = Enumerable.Range(0, channels).Select(_ => new List<(float Score, int Index)>(Top + 1)).ToArray();
        var loader = new BatchLoader(data, Transform, null, BatchSize, Workers);
        var clock = Stopwatch.StartNew();
        long seen = 0;
        progress?.Invoke(0, loader.BatchCount, 0);
        foreach (var batch in loader)
        {
            using var b = batch;
            ct.ThrowIfCancellationRequested();
            float[] scores;
            using (no_grad())
            using (NewDisposeScope())
            {
                var (_, relu) = tap.Forward(batch.Images.to(device));
                scores = relu.mean([3]).mean([2]).contiguous().cpu().data<float>().ToArray();
            }
            for (int r = 0; r < batch.Count; r++)
                for (int f = 0; f < channels; f++)
                    Offer(kept[f], scores[r * channels + f], batch.Indices[r]);
            seen += batch.Count;
            progress?.Invoke(batch.Number + 1, loader.BatchCount, seen / Math.Max(1e-9, clock.Elapsed.TotalSeconds));
        }
        return kept.Select((list, f) => new FilterTopImages(f, list.Select(k => new TopImage(k.Index, data.Describe(k.Index), k.Score)).ToArray()))
                   .ToArray();
    }

    /// <summary>Inserts (score, index) into <paramref name="list"/> (sorted by score descending, then index ascending) when it makes the top.</summary>
    void Offer(List<(float Score, int Index)> list, float score, int index)
    {
        if (list.Count == Top && !Before(score, index, list[^1])) return;
        int at = list.Count;
        while (at > 0 && Before(score, index, list[at - 1])) at--;
        list.Insert(at, (score, index));
        if (list.Count > Top) list.RemoveAt(list.Count - 1);
    }

    static bool Before(float score, int index, (float Score, int Index) other) =>
        score > other.Score || (score == other.Score && index < other.Index);
}
