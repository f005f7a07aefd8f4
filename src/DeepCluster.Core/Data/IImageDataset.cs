namespace DeepCluster.Core.Data;

/// <summary>
/// A random-access set of RGB images, decoded on demand (DeepCluster decodes every image every epoch).
/// Implementations must be safe to call <see cref="Load"/> from several threads at once.
/// </summary>
public interface IImageDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Class names; label <c>k</c> means <c>Classes[k]</c>. Empty when unknown.</summary>
    IReadOnlyList<string> Classes { get; }

    /// <summary>Label of each sample, or null when the dataset has none.</summary>
    int[]? Labels { get; }

    /// <summary>Decodes sample <paramref name="index"/> as RGB; throws <see cref="ImageDecodeException"/> naming the file on failure.</summary>
    RgbImage Load(int index);

    /// <summary>Files left out when the dataset was opened (bad headers, with skip-bad-files); empty by default.</summary>
    IReadOnlyList<string> SkippedFiles => [];

    /// <summary>Why each of <see cref="SkippedFiles"/> was left out, in the same order.</summary>
    IReadOnlyList<string> SkipReasons => [];

    /// <summary>
    /// The encoded bytes of sample <paramref name="index"/> when it is a JPEG file, read into <paramref name="buffer"/>
    /// (grown when too small, else reused: no allocation per sample) as its first <paramref name="length"/> bytes, so the
    /// loader can decode it straight into its own buffers, at a reduced size where it may (<see cref="JpegDctScaling"/>).
    /// False when the sample is not a JPEG file or cannot be read here: the loader then calls <see cref="Load"/>, which
    /// decodes it or says why not. The default reads nothing.
    /// </summary>
    bool TryReadJpeg(int index, ref byte[]? buffer, out int length)
    {
        length = 0;
        return false;
    }

    /// <summary>Where sample <paramref name="index"/> comes from (a path, or a file and record number), for messages.</summary>
    string Describe(int index);
}
