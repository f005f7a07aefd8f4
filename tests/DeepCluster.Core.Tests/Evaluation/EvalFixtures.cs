using DeepCluster.Core.Data;

namespace DeepCluster.Core.Tests.Evaluation;

/// <summary>Tiny labelled datasets, separable by construction, in the layouts the evaluations read.</summary>
public static class EvalFixtures
{
    /// <summary>
    /// Class c of <paramref name="classes"/>: a bright horizontal band, the c-th of <paramref name="classes"/> from the
    /// top, on noise (unchanged by the horizontal flips of the training transforms).
    /// </summary>
    static byte[] Grey(int c, int classes, Random rng, int side = 28)
    {
        var px = new byte[side * side];
        int h = side / classes, y0 = c * h;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
                px[y * side + x] = (byte)Math.Clamp((y >= y0 && y < y0 + h ? 200 : 40) + rng.Next(-30, 31), 0, 255);
        return px;
    }

    /// <summary>An ImageFolder root with train/ and val/, one class folder per class (PNG files).</summary>
    public static void ImageFolder(string root, int classes = 3, int trainPerClass = 20, int valPerClass = 6, int seed = 1)
    {
        var rng = new Random(seed);
        foreach (var (split, n) in new[] { ("train", trainPerClass), ("val", valPerClass) })
            for (int c = 0; c < classes; c++)
            {
                var dir = Path.Combine(root, split, $"class{c}");
                Directory.CreateDirectory(dir);
                for (int i = 0; i < n; i++)
                    ImageCodec.SavePng(RgbImage.FromGrey(28, 28, Grey(c, classes, rng)), Path.Combine(dir, $"{i:D3}.png"));
            }
    }

    /// <summary>A folder of IDX files (train and t10k, uncompressed), labels cycling through the classes.</summary>
    public static void Idx(string root, int classes = 4, int train = 64, int test = 24, int seed = 2)
    {
        Directory.CreateDirectory(root);
        var rng = new Random(seed);
        foreach (var (split, n) in new[] { ("train", train), ("t10k", test) })
        {
            var images = new byte[16 + n * 784];
            var labels = new byte[8 + n];
            WriteInt(images, 0, 2051); WriteInt(images, 4, n); WriteInt(images, 8, 28); WriteInt(images, 12, 28);
            WriteInt(labels, 0, 2049); WriteInt(labels, 4, n);
            for (int i = 0; i < n; i++)
            {
                int c = (i * 7 + 3) % classes;
                labels[8 + i] = (byte)c;
                Grey(c, classes, rng).CopyTo(images, 16 + i * 784);
            }
            File.WriteAllBytes(Path.Combine(root, $"{split}-images-idx3-ubyte"), images);
            File.WriteAllBytes(Path.Combine(root, $"{split}-labels-idx1-ubyte"), labels);
        }
    }

    /// <summary>
    /// Packs the flat image folder <paramref name="images"/> (VOC's <c>JPEGImages/</c>, Oxford's <c>jpg/</c>) into
    /// <paramref name="output"/> as the README says: <c>deepcluster pack</c> of a folder whose one class folder is a link
    /// to it. Returns the pack command's exit code and output.
    /// </summary>
    public static (int Code, string Out, string Err) PackFlatFolder(string images, string output, params string[] flags)
    {
        var stage = Directory.CreateTempSubdirectory("dc-stage-").FullName;
        var link = Path.Combine(stage, Path.GetFileName(Path.TrimEndingDirectorySeparator(images)));
        try
        {
            Directory.CreateSymbolicLink(link, Path.GetFullPath(images));
            return Support.CliInProcess.Run(["pack", stage, output, .. flags]);
        }
        finally
        {
            File.Delete(link);                              // the link only, never what it points to
            Directory.Delete(stage);
        }
    }

    static void WriteInt(byte[] b, int at, int v) => System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(at), v);
}
