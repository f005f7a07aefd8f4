using SkiaSharp;

namespace DeepCluster.Core.Tests.Evaluation.Retrieval;

/// <summary>
/// A tiny Oxford5k / Paris6k dataset in the real layout (<c>jpg/</c>, <c>gt_files/{query}_query.txt</c>, <c>_good</c>,
/// <c>_ok</c>, <c>_junk</c>): <see cref="Buildings"/> buildings, each a random pattern of coloured blocks photographed
/// <see cref="Copies"/> times (the same pattern with pixel noise and a brightness shift: <c>b{b}_00000{k}</c>, k = 1..3), plus
/// <see cref="Distractors"/> unrelated patterns (<c>d_00000{k}</c>) — 15 images. Query <c>b{b}_1</c> is a box of
/// <c>b{b}_000001</c> (named <c>oxc1_…</c> as in Oxford's files); its good images are copies 1 and 2, ok copy 3, junk none;
/// copy 0 is an exact duplicate of copy 1 and is good too.
/// </summary>
public static class RetrievalFixture
{
    public const int Buildings = 3, Copies = 3, Distractors = 3, Width = 80, Height = 60;

    /// <summary>The box of every query: x1 y1 x2 y2 in the original image.</summary>
    public const string Box = "6.5 4.2 74.5 55.8";

    public static string Image(int b, int k) => $"b{b}_{k:D6}";
    public static string Query(int b) => $"b{b}_1";

    public static void Build(string root, int seed)
    {
        var rng = new Random(seed);
        var jpg = Directory.CreateDirectory(Path.Combine(root, "jpg")).FullName;
        var gt = Directory.CreateDirectory(Path.Combine(root, "gt_files")).FullName;
        for (int b = 0; b < Buildings; b++)
        {
            var pattern = Pattern(rng);
            byte[]? copy1 = null;
            for (int k = 1; k <= Copies; k++)
            {
                var bytes = Jpeg(pattern, rng, shift: rng.Next(-15, 16));
                copy1 ??= bytes;
                File.WriteAllBytes(Path.Combine(jpg, Image(b, k) + ".jpg"), bytes);
            }
            File.WriteAllBytes(Path.Combine(jpg, Image(b, 0) + ".jpg"), copy1!);
            File.WriteAllText(Path.Combine(gt, Query(b) + "_query.txt"), $"oxc1_{Image(b, 1)} {Box}\n");
            File.WriteAllLines(Path.Combine(gt, Query(b) + "_good.txt"), [Image(b, 0), Image(b, 1), Image(b, 2)]);
            File.WriteAllLines(Path.Combine(gt, Query(b) + "_ok.txt"), [Image(b, 3)]);
            File.WriteAllText(Path.Combine(gt, Query(b) + "_junk.txt"), "");
        }
        for (int k = 0; k < Distractors; k++)
            File.WriteAllBytes(Path.Combine(jpg, $"d_{k:D6}.jpg"), Jpeg(Pattern(rng), rng, 0));
    }

    /// <summary>8 × 6 blocks of random colours.</summary>
    static SKColor[,] Pattern(Random rng)
    {
        var p = new SKColor[8, 6];
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 6; j++)
                p[i, j] = new SKColor((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256));
        return p;
    }

    static byte[] Jpeg(SKColor[,] pattern, Random rng, int shift)
    {
        using var bitmap = new SKBitmap(Width, Height);
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                var c = pattern[x * 8 / Width, y * 6 / Height];
                int n = rng.Next(-10, 11) + shift;
                bitmap.SetPixel(x, y, new SKColor((byte)Math.Clamp(c.Red + n, 0, 255), (byte)Math.Clamp(c.Green + n, 0, 255), (byte)Math.Clamp(c.Blue + n, 0, 255)));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 92);
        return data.ToArray();
    }
}
