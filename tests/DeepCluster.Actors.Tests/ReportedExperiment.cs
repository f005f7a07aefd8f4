using System.Text.RegularExpressions;
using DeepCluster.Core.Tests.Support;
using SkiaSharp;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// A tiny experiment run once to the end, whose report the report tests read: 2 epochs of alexnet_small on 300
/// Fashion-MNIST images, k = 10 (so that the second epoch has an NMI against the first, and the labels give one too).
/// Tests copy the folder before changing anything in it.
/// </summary>
public sealed partial class ReportedExperiment : IDisposable
{
    readonly TempDir dir = new();

    public static string[] Args(string exp, params string[] extra) =>
    [
        "train", CliProcess.FashionMnist, "--arch", "alexnet_small", "--sobel", "--k", "10", "--epochs", "2", "--batch", "64",
        "--limit", "300", "--checkpoints", "100", "--workers", "2", "--exp", exp, "--device", "cpu", "--seed", "7", "--pca", "16",
        .. extra,
    ];

    /// <summary>The finished folder; copy it (<see cref="CopyTo"/>), never change it.</summary>
    public string Folder { get; }
    /// <summary>What the run printed.</summary>
    public string Output { get; }
    /// <summary>The rows of sample images the report shows: every non-empty cluster of the last epoch, at most 8 + 8.</summary>
    public int ClusterRows => Math.Min(16, DeepCluster.Core.IO.ClustersLog.Read(Path.Combine(Folder, "clusters"))[^1].Count(c => c.Length > 0));

    public ReportedExperiment()
    {
        Folder = dir.File("reported");
        var (code, output) = FinishedExperiment.Run(Args(Folder));
        if (code != 0) throw new InvalidOperationException("the reference run failed:\n" + output);
        Output = output;
    }

    /// <summary>A copy of the folder in a new temporary folder that <paramref name="owner"/> removes.</summary>
    public string CopyTo(TempDir owner, string name = "copy")
    {
        var destination = owner.File(name);
        Directory.CreateDirectory(destination);
        foreach (var d in Directory.GetDirectories(Folder, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(Folder, d)));
        foreach (var f in Directory.GetFiles(Folder, "*", SearchOption.AllDirectories))
            File.Copy(f, Path.Combine(destination, Path.GetRelativePath(Folder, f)));
        return destination;
    }

    public void Dispose() => dir.Dispose();

    /// <summary>An <c>&lt;img&gt;</c> of a report: its id, the size it declares, and its PNG decoded back.</summary>
    public sealed record PageImage(string Id, int Width, int Height, byte[] Png, SKBitmap Bitmap);

    /// <summary>
    /// Every <c>&lt;img&gt;</c> of <paramref name="html"/>, its <c>data:</c> PNG decoded; fails when one is not a PNG, does not
    /// decode, or has another size than it declares.
    /// </summary>
    public static List<PageImage> Images(string html)
    {
        var images = new List<PageImage>();
        foreach (Match m in ImgTag().Matches(html))
        {
            var tag = m.Value;
            string Attr(string name) => Regex.Match(tag, $"\\s{name}=\"([^\"]*)\"") is { Success: true } a ? a.Groups[1].Value
                : throw new Xunit.Sdk.XunitException($"<img> without {name}: {tag[..Math.Min(tag.Length, 120)]}");
            var src = Attr("src");
            Assert.StartsWith("data:image/png;base64,", src);
            var png = Convert.FromBase64String(src["data:image/png;base64,".Length..]);
            Assert.True(png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }), "not a PNG signature");
            var bitmap = SKBitmap.Decode(png) ?? throw new Xunit.Sdk.XunitException($"{Attr("id")}: the PNG does not decode");
            var image = new PageImage(Attr("id"), int.Parse(Attr("width")), int.Parse(Attr("height")), png, bitmap);
            Assert.Equal((image.Width, image.Height), (bitmap.Width, bitmap.Height));
            images.Add(image);
        }
        return images;
    }

    /// <summary>How many different colours <paramref name="bitmap"/> holds (a blank picture holds one).</summary>
    public static int Colours(SKBitmap bitmap)
    {
        var seen = new HashSet<uint>();
        for (var y = 0; y < bitmap.Height; y++)
            for (var x = 0; x < bitmap.Width; x++)
                seen.Add((uint)bitmap.GetPixel(x, y));
        return seen.Count;
    }

    [GeneratedRegex("<img\\s[^>]*>")]
    private static partial Regex ImgTag();
}

[CollectionDefinition("reported experiment")]
public sealed class ReportedExperimentCollection : ICollectionFixture<ReportedExperiment>;
