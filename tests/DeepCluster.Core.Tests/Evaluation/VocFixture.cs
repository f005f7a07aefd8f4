using DeepCluster.Core.Evaluation.Voc;
using SkiaSharp;

namespace DeepCluster.Core.Tests.Evaluation;

/// <summary>
/// A tiny Pascal VOC 2007 folder in the real layout: <c>JPEGImages/{name}.jpg</c> and
/// <c>ImageSets/Main/{class}_{split}.txt</c> for the 20 classes and the splits train, val, trainval and test. Image
/// <c>i</c> of a split is filled with colour <c>i mod 4</c> (red, green, blue, yellow, with noise); class <c>c</c> is
/// present (1) in the images of colour <c>c mod 4</c> and absent (−1) elsewhere, so every class is separable by colour;
/// every fifth image is difficult (0) for the classes of the next colour.
/// </summary>
public static class VocFixture
{
    static readonly SKColor[] Colours = [new(220, 30, 30), new(30, 200, 40), new(30, 40, 220), new(230, 220, 30)];

    /// <summary>The label the fixture gives image <paramref name="i"/> for class <paramref name="c"/>.</summary>
    public static int Label(int i, int c) => c % 4 == i % 4 ? 1 : i % 5 == 0 && c % 4 == (i + 1) % 4 ? 0 : -1;

    /// <summary>Image names of a split: <c>{split}_{i:D3}</c>.</summary>
    public static string Name(string split, int i) => $"{split}_{i:D3}";

    /// <summary>Builds the folder with <paramref name="train"/> train and <paramref name="val"/> val images (trainval = both, test = val's count).</summary>
    public static void Build(string root, int train = 32, int val = 16, int side = 36, int seed = 5)
    {
        var rng = new Random(seed);
        var jpegs = Directory.CreateDirectory(Path.Combine(root, "JPEGImages")).FullName;
        var sets = Directory.CreateDirectory(Path.Combine(root, "ImageSets", "Main")).FullName;
        var splits = new Dictionary<string, List<string>>
        {
            ["train"] = Enumerable.Range(0, train).Select(i => Name("train", i)).ToList(),
            ["val"] = Enumerable.Range(0, val).Select(i => Name("val", i)).ToList(),
            ["test"] = Enumerable.Range(0, val).Select(i => Name("test", i)).ToList(),
        };
        splits["trainval"] = splits["train"].Concat(splits["val"]).ToList();
        foreach (var split in new[] { "train", "val", "test" })
            for (int i = 0; i < splits[split].Count; i++)
                File.WriteAllBytes(Path.Combine(jpegs, splits[split][i] + ".jpg"), Jpeg(Colours[i % 4], side, rng));
        foreach (var (split, names) in splits)
            for (int c = 0; c < VocDataset.ClassNames.Length; c++)
                File.WriteAllLines(Path.Combine(sets, $"{VocDataset.ClassNames[c]}_{split}.txt"),
                                   names.Select(n => $"{n} {Label(int.Parse(n[^3..]), c),2}"));
    }

    static byte[] Jpeg(SKColor colour, int side, Random rng)
    {
        using var bitmap = new SKBitmap(side, side);
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                int n = rng.Next(-25, 26);
                bitmap.SetPixel(x, y, new SKColor((byte)Math.Clamp(colour.Red + n, 0, 255), (byte)Math.Clamp(colour.Green + n, 0, 255),
                                                  (byte)Math.Clamp(colour.Blue + n, 0, 255)));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 92);
        return data.ToArray();
    }
}
