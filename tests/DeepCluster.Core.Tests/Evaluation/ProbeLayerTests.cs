using DeepCluster.Core.Evaluation;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using DeepCluster.Core.IO;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Evaluation;

public class ProbeLayerTests
{
    public ProbeLayerTests() => TorchRuntime.EnsureLoaded();

    /// <summary>The documented dimensions (README, "Evaluating features"); AlexNet's are the published RegLog's.</summary>
    public static TheoryData<string, int, int> Dims => new()
    {
        { "alexnet", 1, 96 * 10 * 10 }, { "alexnet", 2, 256 * 6 * 6 }, { "alexnet", 3, 384 * 5 * 5 }, { "alexnet", 4, 384 * 5 * 5 }, { "alexnet", 5, 256 * 6 * 6 },
        { "alexnet_small", 1, 32 * 8 * 8 }, { "alexnet_small", 2, 64 * 5 * 5 }, { "alexnet_small", 3, 128 * 4 * 4 },
        { "alexnet_small", 4, 128 * 4 * 4 }, { "alexnet_small", 5, 64 * 4 * 4 },
        { "vgg16", 1, 64 * 12 * 12 }, { "vgg16", 2, 128 * 9 * 9 }, { "vgg16", 3, 256 * 6 * 6 }, { "vgg16", 4, 512 * 4 * 4 }, { "vgg16", 5, 512 * 4 * 4 },
    };

    [Theory]
    [MemberData(nameof(Dims))]
    public void PooledFeaturesHaveTheDocumentedDimension(string arch, int conv, int dim)
    {
        var layer = ProbeLayer.For(arch, conv);
        Assert.Equal(dim, layer.Dim);
        using var model = ModelFactory.Create(arch, sobel: false, numClasses: 0);
        var trunk = new FrozenTrunk(model, layer);
        using var x = randn(1, 3, model.InputSize, model.InputSize, generator: new Generator(3));
        using var f = trunk.Features(x);
        Assert.Equal(new long[] { 1, dim }, f.shape);
        Assert.True(f.min().item<float>() >= 0);   // after a ReLU, averaged
        Assert.False(f.requires_grad);
    }

    [Fact]
    public void ConvOutsideOneToFiveIsRefused()
    {
        Assert.Contains("--conv 6", Assert.Throws<ArgumentException>(() => ProbeLayer.For("alexnet", 6)).Message);
        Assert.Contains("resnet", Assert.Throws<ArgumentException>(() => ProbeLayer.For("resnet", 1)).Message);
    }

    /// <summary>
    /// A released-format file (legacy serialization, features.module.* keys, no optimizer key, Sobel, a top_layer)
    /// loads, and the frozen features are the published eval_linear.py's forward(x, model, conv) then RegLog's pooling.
    /// </summary>
    [Fact]
    public void LegacyReleasedModelGivesThePublishedForwardAndPooling()
    {
        using var dir = new TempDir();
        using var x = randn(3, 3, 28, 28, generator: new Generator(5));
        NpyFile.WriteTensor(dir.File("x.npy"), x);
        var py = PythonPeer.Run(PythonModels.Preamble + """
            d = sys.argv[1]
            torch.manual_seed(4)
            m = ARCHS['alexnet_small'](sobel=True, out=7)
            for mod in m.modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 1.5)
            m.eval()
            def forward(x, model, conv):   # eval_linear.py
                if hasattr(model, 'sobel') and model.sobel is not None:
                    x = model.sobel(x)
                count = 1
                for mod in model.features.modules():
                    if not isinstance(mod, torch.nn.Sequential):
                        x = mod(x)
                    if isinstance(mod, torch.nn.ReLU):
                        if count == conv:
                            return x
                        count = count + 1
                return x
            x = torch.from_numpy(np.load(d + '/x.npy'))
            pools = {1: (4, 4, 2), 3: (2, 2, 1), 5: (2, 2, 1)}
            out = []
            with torch.no_grad():
                for conv, (k, s, p) in pools.items():
                    f = torch.nn.AvgPool2d(k, stride=s, padding=p)(forward(x, m, conv))
                    out.append(' '.join(repr(float(v)) for v in f.reshape(f.size(0), -1).flatten()))
            m.features = torch.nn.DataParallel(m.features)
            torch.save({'epoch': 100, 'arch': 'alexnet_small', 'state_dict': m.state_dict()}, d + '/released.pth',
                       _use_new_zipfile_serialization=False)
            print('\n'.join(out))
            """, dir.Path).Trim().Split('\n');
        using var model = EvaluatedModel.Load(dir.File("released.pth"), arch: null, sobel: false, seed: 0, CPU);
        Assert.True(model.UsesSobel);
        Assert.Equal("alexnet_small", model.Arch);
        int i = 0;
        foreach (var conv in new[] { 1, 3, 5 })
        {
            using var f = new FrozenTrunk(model, ProbeLayer.For("alexnet_small", conv)).Features(x);
            PythonNumbers.AssertClose(py[i++].Trim(), f.data<float>().ToArray());
        }
    }
}
