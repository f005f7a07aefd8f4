using DeepCluster.Core.Data;
using DeepCluster.Core.Tests.Support;
using Xunit.Abstractions;
using static DeepCluster.Core.Tests.Data.DataTestHelpers;

namespace DeepCluster.Core.Tests.Data;

public class TransformTests(ITestOutputHelper output)
{
    /// <summary>torchvision applies each named pipeline to each PNG and writes float32 tensors; we compare.</summary>
    const string Peer = """
import sys, numpy as np, torch
from PIL import Image
import torchvision.transforms as T
import torchvision.transforms.functional as F
folder, names = sys.argv[1], sys.argv[2].split(',')
M, S = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
tt = T.ToTensor()
def stack(crops): return torch.stack([tt(c) for c in crops])
pipes = {
  'totensor': tt,
  'normalize': T.Compose([T.ToTensor(), T.Normalize(M, S)]),
  'resize24': T.Compose([T.Resize(24), T.ToTensor()]),
  'resize100': T.Compose([T.Resize(100), T.ToTensor()]),
  'resize30x20': T.Compose([T.Resize((30, 20)), T.ToTensor()]),
  'resize256_center224': T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(M, S)]),
  'center20': T.Compose([T.CenterCrop(20), T.ToTensor()]),
  'center21x80': T.Compose([T.CenterCrop((21, 80)), T.ToTensor()]),
  'flip': T.Compose([T.RandomHorizontalFlip(1.0), T.ToTensor()]),
  'tencrop16': T.Compose([T.TenCrop(16), T.Lambda(stack)]),
  'rrcbox': lambda im: tt(F.resized_crop(im, 3, 5, im.size[1] // 2, im.size[0] - 9, [28, 28])),
  'rrcbox_up': lambda im: tt(F.resized_crop(im, 1, 2, 10, 13, [40, 32])),
}
for n in names:
    im = Image.open(f'{folder}/{n}.png').convert('RGB')
    for k, p in pipes.items():
        p(im).numpy().astype(np.float32).tofile(f'{folder}/{n}.{k}.bin')
print('ok')
""";

    static readonly Dictionary<string, Func<Compose>> Pipes = new()
    {
        ["totensor"] = () => new Compose(new ToTensor()),
        ["normalize"] = () => new Compose(new ToTensor(), Normalize.ImageNet()),
        ["resize24"] = () => new Compose(new Resize(24), new ToTensor()),
        ["resize100"] = () => new Compose(new Resize(100), new ToTensor()),
        ["resize30x20"] = () => new Compose(new Resize(30, 20), new ToTensor()),
        ["resize256_center224"] = () => new Compose(new Resize(256), new CenterCrop(224), new ToTensor(), Normalize.ImageNet()),
        ["center20"] = () => new Compose(new CenterCrop(20), new ToTensor()),
        ["center21x80"] = () => new Compose(new CenterCrop(21, 80), new ToTensor()),
        ["flip"] = () => new Compose(new RandomHorizontalFlip(1.0), new ToTensor()),
        ["tencrop16"] = () => new Compose(new TenCrop(16), new ToTensor()),
        ["rrcbox"] = () => new Compose(new FixedBox(im => new CropBox(3, 5, im.Height / 2, im.Width - 9), 28, 28), new ToTensor()),
        ["rrcbox_up"] = () => new Compose(new FixedBox(_ => new CropBox(1, 2, 10, 13), 40, 32), new ToTensor()),
    };

    /// <summary>RandomResizedCrop's crop-and-resize step with a fixed box.</summary>
    sealed class FixedBox(Func<RgbImage, CropBox> box, int h, int w) : IImageTransform
    {
        readonly RandomResizedCrop _rrc = new(h, w);
        public RgbImage Apply(RgbImage image, SampleRng rng) => _rrc.Apply(image, box(image));
    }

    [Fact]
    public void DeterministicTransformsMatchTorchvision()
    {
        using var dir = new TempDir();
        var sizes = new[] { (37, 53), (64, 64), (300, 200), (47, 29) };
        var names = new List<string>();
        for (int i = 0; i < sizes.Length; i++)
        {
            var name = $"img{i}";
            ImageCodec.SavePng(RandomImage(sizes[i].Item1, sizes[i].Item2, i), dir.File(name + ".png"));
            names.Add(name);
        }
        PythonPeer.Run(Peer, dir.Path, string.Join(',', names));
        foreach (var name in names)
        {
            var img = ImageCodec.Decode(dir.File(name + ".png"));
            foreach (var (key, make) in Pipes)
            {
                var expected = ReadFloats(dir.File($"{name}.{key}.bin"));
                var actual = make().Apply(img, new SampleRng(1), out _);
                var (max, mean) = Diff(actual, expected);
                output.WriteLine($"{name} {img.Width}x{img.Height} {key}: max {max:G3} mean {mean:G3}");
                // Our bilinear is a port of Pillow's fixed-point resampler: identical, not just close.
                Assert.True(max == 0, $"{name} {key}: max abs diff {max} mean {mean}");
            }
        }
    }

    const string ParamsPeer = """
import sys, torch, math
import torchvision.transforms as T
torch.manual_seed(0)
w, h, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
from PIL import Image
im = Image.new('RGB', (w, h))
a = r = 0.0
for _ in range(n):
    i, j, hh, ww = T.RandomResizedCrop.get_params(im, (0.08, 1.0), (3/4, 4/3))
    a += ww * hh / (w * h); r += math.log(ww / hh)
print(a / n, r / n)
""";

    [Theory]
    [InlineData(100, 80)]
    [InlineData(28, 28)]
    [InlineData(500, 375)]
    public void RandomResizedCropParametersFollowTorchvision(int w, int h)
    {
        var rrc = new RandomResizedCrop(28);
        const int n = 20000;
        double area = 0, logRatio = 0;
        for (int s = 0; s < n; s++)
        {
            var box = rrc.SampleBox(w, h, SampleRng.For(7, 0, s));
            Assert.Equal(box, rrc.SampleBox(w, h, SampleRng.For(7, 0, s)));
            Assert.InRange(box.Width, 1, w); Assert.InRange(box.Height, 1, h);
            Assert.InRange(box.Left, 0, w - box.Width); Assert.InRange(box.Top, 0, h - box.Height);
            double frac = (double)box.Width * box.Height / (w * h);
            // Rounding of w and h moves the area by up to about a pixel on each side.
            double slack = (box.Width + box.Height + 1.0) / (w * h);
            Assert.InRange(frac, 0.08 - slack, 1.0 + slack);
            double ratio = (double)box.Width / box.Height;
            Assert.InRange(ratio, 0.75 * (1 - 1.0 / box.Height) * (1 - 1.0 / box.Width) - 0.02, 4.0 / 3.0 / ((1 - 1.0 / box.Height) * (1 - 1.0 / box.Width)) + 0.02);
            area += frac; logRatio += Math.Log(ratio);
        }
        var py = PythonPeer.Run(ParamsPeer, w.ToString(), h.ToString(), n.ToString()).Trim().Split(' ').Select(double.Parse).ToArray();
        output.WriteLine($"{w}x{h}: mean area {area / n:F4} (torchvision {py[0]:F4}), mean log ratio {logRatio / n:F4} (torchvision {py[1]:F4})");
        Assert.InRange(area / n, py[0] - 0.01, py[0] + 0.01);
        Assert.InRange(logRatio / n, py[1] - 0.02, py[1] + 0.02);
        Assert.NotEqual(rrc.SampleBox(w, h, SampleRng.For(7, 0, 1)), rrc.SampleBox(w, h, SampleRng.For(7, 1, 1)));
    }

    [Fact]
    public void RandomResizedCropFallsBackToCentreCropClampedToRatio()
    {
        // Scale (0.9, 1) on a 1000x10 image never fits in 10 attempts: torchvision's fallback.
        var rrc = new RandomResizedCrop(8, scale: (0.9, 1.0));
        Assert.Equal(new CropBox(0, (1000 - 13) / 2, 10, 13), rrc.SampleBox(1000, 10, new SampleRng(3)));
        Assert.Equal(new CropBox((1000 - 13) / 2, 0, 13, 10), rrc.SampleBox(10, 1000, new SampleRng(3)));
    }

    [Fact]
    public void RandomHorizontalFlipIsSeededAndBalanced()
    {
        var img = RandomImage(9, 4, 1);
        var flip = new RandomHorizontalFlip();
        int flipped = 0;
        for (int s = 0; s < 2000; s++)
        {
            var a = flip.Apply(img, SampleRng.For(1, 0, s));
            var b = flip.Apply(img, SampleRng.For(1, 0, s));
            Assert.Equal(a.Pixels, b.Pixels);
            if (!ReferenceEquals(a, img)) { flipped++; Assert.Equal(ImageOps.FlipHorizontal(img).Pixels, a.Pixels); }
        }
        Assert.InRange(flipped, 900, 1100);
    }

    [Fact]
    public void ComposeRejectsMisorderedSteps()
    {
        Assert.Throws<ArgumentException>(() => new Compose(new ToTensor(), new Resize(3)));
        Assert.Throws<ArgumentException>(() => new Compose(Normalize.ImageNet(), new ToTensor()));
        Assert.Throws<ArgumentException>(() => new Normalize([0, 0, 0], [1, 0, 1]));
    }
}
