using DeepCluster.Core.Data;
using DeepCluster.Core.Tests.Support;
using Xunit.Abstractions;
using static DeepCluster.Core.Tests.Data.DataTestHelpers;

namespace DeepCluster.Core.Tests.Data;

public class ImageFolderTests(ITestOutputHelper output)
{
    const string ListPeer = """
import sys, torchvision.datasets as D
ds = D.ImageFolder(sys.argv[1])
print('\t'.join(ds.classes))
for p, y in ds.samples: print(f'{p}\t{y}')
""";

    [Fact]
    public void ClassAndFileOrderMatchTorchvision()
    {
        using var dir = new TempDir();
        var png = ImageCodec.EncodePng(RandomImage(4, 3, 0));
        string[] files = ["b/x.PNG", "b/a.png", "b/_c.jpeg.png", "B/z.bmp", "B/notes.txt", "a_/q.JPG", "a_/sub/r.png", "a_/sub2/s.png",
                          "a_/s.webp", "Z10/m.tif", "z2/n.Tiff", "z2/p.ppm", "z2/readme"];
        foreach (var f in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dir.File(f))!);
            File.WriteAllBytes(dir.File(f), png);
        }
        var ds = new ImageFolder(dir.Path);
        var lines = PythonPeer.Run(ListPeer, dir.Path).TrimEnd('\n').Split('\n');
        Assert.Equal(lines[0].Split('\t'), ds.Classes);
        var expected = lines.Skip(1).Select(l => l.Split('\t')).ToArray();
        Assert.Equal(expected.Select(e => e[0]), ds.Paths);
        Assert.Equal(expected.Select(e => int.Parse(e[1])), ds.Labels);
        output.WriteLine(string.Join("\n", ds.Paths));
    }

    const string PilPeer = """
import sys, numpy as np
from PIL import Image
d = sys.argv[1]
rng = np.random.RandomState(0)
rgb = rng.randint(0, 256, (13, 17, 3), dtype=np.uint8)
Image.fromarray(rgb[:, :, 0], 'L').save(f'{d}/grey.png')
Image.fromarray(np.dstack([rgb, rng.randint(0, 256, (13, 17), dtype=np.uint8)]), 'RGBA').save(f'{d}/rgba.png')
Image.fromarray(rgb).convert('P', palette=Image.ADAPTIVE, colors=16).save(f'{d}/palette.png')
Image.fromarray(rgb).save(f'{d}/rgb.bmp')
Image.fromarray(rgb).save(f'{d}/rgb.ppm')
Image.fromarray(rgb[:, :, 1], 'L').save(f'{d}/grey.pgm')
smooth = np.clip(np.add.outer(np.arange(40) * 3, np.arange(56) * 2)[:, :, None] + np.array([0, 30, 60]), 0, 255).astype(np.uint8)
Image.fromarray(smooth).save(f'{d}/photo.jpg', quality=90)
Image.fromarray(smooth[:, :, 0]).save(f'{d}/greyphoto.jpg', quality=90)
for n in ['grey.png', 'rgba.png', 'palette.png', 'rgb.bmp', 'rgb.ppm', 'grey.pgm', 'photo.jpg', 'greyphoto.jpg']:
    np.asarray(Image.open(f'{d}/{n}').convert('RGB'), dtype=np.uint8).tofile(f'{d}/{n}.rgb')
print('ok')
""";

    [Fact]
    public void DecodingMatchesPilConvertRgb()
    {
        using var dir = new TempDir();
        PythonPeer.Run(PilPeer, dir.Path);
        foreach (var n in new[] { "grey.png", "rgba.png", "palette.png", "rgb.bmp", "rgb.ppm", "grey.pgm" })
        {
            var img = ImageCodec.Decode(dir.File(n));
            Assert.Equal(File.ReadAllBytes(dir.File(n + ".rgb")), img.Pixels);
        }
        // libjpeg-turbo (TurboJpeg, what PIL uses; deploy/deps.sh installs it) decodes JPEGs exactly as PIL does.
        Assert.True(TurboJpeg.Available, "libturbojpeg0 is not installed (deploy/deps.sh installs it)");
        foreach (var n in new[] { "photo.jpg", "greyphoto.jpg" })
        {
            Assert.Equal(File.ReadAllBytes(dir.File(n + ".rgb")), ImageCodec.Decode(dir.File(n)).Pixels);
            Assert.Equal(File.ReadAllBytes(dir.File(n + ".rgb")), ImageCodec.Decode(File.ReadAllBytes(dir.File(n)), n).Pixels);
        }
    }

    [Fact]
    public void SkiaDecodesJpegsWithinRoundingOfPil()
    {
        using var dir = new TempDir();
        PythonPeer.Run(PilPeer, dir.Path);
        foreach (var n in new[] { "photo.jpg", "greyphoto.jpg" })
        {
            // The fallback without libturbojpeg: Skia's bundled decoder may differ from PIL's by rounding in upsampling/IDCT.
            var img = ImageCodec.DecodeWithSkia(dir.File(n));
            var pil = File.ReadAllBytes(dir.File(n + ".rgb"));
            Assert.Equal(pil.Length, img.Pixels.Length);
            double mean = img.Pixels.Zip(pil, (a, b) => Math.Abs(a - b)).Average();
            int max = img.Pixels.Zip(pil, (a, b) => Math.Abs(a - b)).Max();
            output.WriteLine($"{n}: max {max} mean {mean:F3} (0..255)");
            Assert.True(mean < 1.0 && max <= 8, $"{n}: mean {mean} max {max}");
        }
    }

    [Fact]
    public void MissingOrEmptyFoldersNameThePath()
    {
        using var dir = new TempDir();
        var missing = dir.File("nope");
        Assert.Contains(missing, Assert.Throws<DirectoryNotFoundException>(() => new ImageFolder(missing)).Message);
        Assert.Contains(dir.Path, Assert.Throws<InvalidDataException>(() => new ImageFolder(dir.Path)).Message);
        Directory.CreateDirectory(dir.File("cat"));
        File.WriteAllText(dir.File("cat/readme.txt"), "x");
        Assert.Contains(dir.File("cat"), Assert.Throws<InvalidDataException>(() => new ImageFolder(dir.Path)).Message);
    }

    [Fact]
    public void BadFilesThrowNamingTheFileOrAreSkipped()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("c"));
        var good = ImageCodec.EncodePng(RandomImage(30, 20, 1));
        File.WriteAllBytes(dir.File("c/0good.png"), good);
        File.WriteAllText(dir.File("c/1text.png"), "this is not an image");
        File.WriteAllBytes(dir.File("c/2truncated.png"), good[..(good.Length / 2)]);
        File.WriteAllBytes(dir.File("c/3empty.jpg"), []);

        var ds = new ImageFolder(dir.Path);
        Assert.Equal(4, ds.Count);
        Assert.Equal(30, ds.Load(0).Width);
        for (int i = 1; i < 4; i++)
        {
            var e = Assert.Throws<ImageDecodeException>(() => ds.Load(i));
            output.WriteLine(e.Message);
            Assert.Equal(ds.Paths[i], e.Origin);
            Assert.Contains(ds.Paths[i], e.Message);
        }

        var skipping = new ImageFolder(dir.Path, skipBadFiles: true);
        // The header check catches non-images; the truncated file passes it and is left to the loader.
        Assert.Equal([dir.File("c/1text.png"), dir.File("c/3empty.jpg")], skipping.SkippedFiles);
        Assert.Equal([dir.File("c/0good.png"), dir.File("c/2truncated.png")], skipping.Paths);
    }
}
