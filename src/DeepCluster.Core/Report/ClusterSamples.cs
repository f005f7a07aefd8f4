using DeepCluster.Core.Data;

namespace DeepCluster.Core.Report;

/// <summary>A cluster the report shows: its index, how many images it holds, which of them are shown, and why it was picked.</summary>
/// <param name="Largest">True: among the largest clusters; false: drawn at random among the others.</param>
public sealed record ClusterPick(int Cluster, int Size, int[] Shown, bool Largest);

/// <summary>
/// The clusters of one epoch that the report shows with sample images: the largest ones, and others drawn at random
/// (seeded by the experiment's seed and the epoch, so the same epoch always shows the same clusters and images); each
/// shown as a row of thumbnails (the shorter side resized as torchvision's <c>Resize</c>, then centre-cropped).
/// </summary>
public static class ClusterSamples
{
    /// <summary>
    /// Picks up to <paramref name="largest"/> of the largest non-empty clusters (ties: the lower index first), then up to
    /// <paramref name="random"/> other non-empty ones at random; of each, up to <paramref name="perCluster"/> images drawn at
    /// random, in dataset order.
    /// </summary>
    public static IReadOnlyList<ClusterPick> Pick(IReadOnlyList<int[]> clusters, int largest, int random, int perCluster, int seed, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(largest);
        ArgumentOutOfRangeException.ThrowIfNegative(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perCluster);
        // Seeded System.Random is stable across runs and machines (HashCode is not: it is salted per process).
        var rng = new Random(unchecked(seed * 1_000_003 + epoch * 7919 + 0x5e9027));
        var nonEmpty = Enumerable.Range(0, clusters.Count).Where(c => clusters[c].Length > 0)
                                 .OrderByDescending(c => clusters[c].Length).ThenBy(c => c).ToList();
        var top = nonEmpty.Take(largest).ToList();
        var rest = nonEmpty.Skip(top.Count).ToArray();
        rng.Shuffle(rest);
        var drawn = rest.Take(random).Order().ToList();
        return top.Select(c => Choose(clusters[c], c, true)).Concat(drawn.Select(c => Choose(clusters[c], c, false))).ToList();

        ClusterPick Choose(int[] members, int cluster, bool isLargest)
        {
            var shown = members.ToArray();
            if (shown.Length > perCluster)
            {
                rng.Shuffle(shown);
                shown = shown[..perCluster];
            }
            Array.Sort(shown);
            return new ClusterPick(cluster, members.Length, shown, isLargest);
        }
    }

    /// <summary>
    /// The images <paramref name="indices"/> of <paramref name="dataset"/> side by side as one RGB image: each
    /// <paramref name="thumbnail"/> pixels square, <see cref="Gap"/> white pixels apart.
    /// </summary>
    /// <exception cref="InvalidDataException">An index is outside the dataset (the dataset changed since the run).</exception>
    public static RgbImage Strip(IImageDataset dataset, IReadOnlyList<int> indices, int thumbnail)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(thumbnail);
        var width = Math.Max(1, indices.Count * thumbnail + Math.Max(0, indices.Count - 1) * Gap);
        var strip = new RgbImage(width, thumbnail);
        Array.Fill(strip.Pixels, (byte)255);
        for (var i = 0; i < indices.Count; i++)
        {
            var index = indices[i];
            if (index < 0 || index >= dataset.Count)
                throw new InvalidDataException($"the clusters log names image {index}, but the dataset has {dataset.Count} images (it changed since the run)");
            var thumb = Thumbnail(dataset.Load(index), thumbnail);
            var x0 = i * (thumbnail + Gap);
            for (var y = 0; y < thumbnail; y++)
                Array.Copy(thumb.Pixels, y * thumbnail * 3, strip.Pixels, (y * width + x0) * 3, thumbnail * 3);
        }
        return strip;
    }

    /// <summary>White pixels between two thumbnails of a strip.</summary>
    public const int Gap = 2;

    /// <summary>The shorter side resized to <paramref name="size"/> (Pillow's bilinear, as torchvision), then the centre square.</summary>
    public static RgbImage Thumbnail(RgbImage image, int size)
    {
        var (w, h) = new Resize(size).OutputSize(image.Width, image.Height);
        var resized = w == image.Width && h == image.Height ? image : PilResampler.Resize(image, w, h);
        var (left, top) = ImageOps.CenterCropOrigin(resized.Width, resized.Height, size, size);
        return ImageOps.Crop(resized, left, top, size, size);
    }

    /// <summary>
    /// The most frequent true label among <paramref name="members"/> and its share, as "majority label Sneaker (72%)"; null
    /// when the dataset has no labels.
    /// </summary>
    public static string? Majority(IImageDataset dataset, int[] members)
    {
        if (dataset.Labels is not { } labels || members.Length == 0) return null;
        var counts = new Dictionary<int, int>();
        foreach (var m in members)
            if (m >= 0 && m < labels.Length) counts[labels[m]] = counts.GetValueOrDefault(labels[m]) + 1;
        if (counts.Count == 0) return null;
        var (label, count) = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)).First();
        var name = label >= 0 && label < dataset.Classes.Count ? dataset.Classes[label] : label.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"majority label {name} ({100.0 * count / members.Length:0}%)");
    }
}
