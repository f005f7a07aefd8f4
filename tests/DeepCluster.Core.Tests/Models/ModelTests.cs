using System.Globalization;
using System.Text;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Models;

public class ModelTests
{
    public ModelTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("alexnet", false)]
    [InlineData("alexnet", true)]
    [InlineData("vgg16", true)]
    [InlineData("alexnet_small", true)]
    [InlineData("alexnet_small", false)]
    public void StateDictNamesAndShapesMatchThePublishedPyTorchModel(string arch, bool sobel)
    {
        using var model = ModelFactory.Create(arch, sobel, numClasses: 10);
        var ours = model.state_dict().ToDictionary(kv => kv.Key, kv => string.Join("x", kv.Value.shape));
        var py = PythonPeer.Run(PythonModels.Preamble + $$"""
            m = ARCHS['{{arch}}'](sobel={{(sobel ? "True" : "False")}}, out=10)
            for k, v in m.state_dict().items():
                print(k, 'x'.join(str(s) for s in v.shape))
            print('#params', sum(p.numel() for p in m.parameters()))
            """);
        var theirs = py.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#'))
            .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(theirs.Keys.Order(), ours.Keys.Order());
        foreach (var (k, shape) in theirs) Assert.True(shape == ours[k], $"{k}: ours {ours[k]}, PyTorch {shape}");
        var count = long.Parse(py.Split('\n').First(l => l.StartsWith("#params")).Split(' ')[1], CultureInfo.InvariantCulture);
        Assert.Equal(count, model.parameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData("alexnet", true, 224, 4096)]
    [InlineData("alexnet_small", true, 28, 512)]
    [InlineData("alexnet_small", false, 28, 512)]
    public void ForwardAndEmbedShapes(string arch, bool sobel, int size, int dim)
    {
        using var model = ModelFactory.Create(arch, sobel, numClasses: 7);
        model.eval();
        using var x = randn(3, 3, size, size);
        using var y = model.forward(x);
        using var e = model.Embed(x);
        Assert.Equal(new long[] { 3, 7 }, y.shape);
        Assert.Equal(new long[] { 3, dim }, e.shape);
        Assert.Equal(dim, model.FeatureDim);
        // Embed drops the classifier's last ReLU: some features are negative.
        Assert.True(e.min().item<float>() < 0);
    }

    [Theory]
    [InlineData("alexnet_small", 28)]
    [InlineData("alexnet", 224)]
    public void PoolingBeforeReluGivesBitIdenticalOutputsAndGradients(string arch, int size)
    {
        // The trunk applies each ReLU that feeds a max-pool after the pool; the reference is the published order,
        // run through the Sequential modules themselves.
        manual_seed(3);
        using var model = ModelFactory.Create(arch, sobel: true, numClasses: 6);
        model.train();
        var parts = model.named_children().Where(c => c.module is TorchSharp.Modules.Sequential)
            .ToDictionary(c => c.name, c => (TorchSharp.Modules.Sequential)c.module);
        using var x = randn(size > 100 ? 2 : 8, 3, size, size);
        Tensor Published()
        {
            var h = parts["features"].forward(parts["sobel"].forward(x.ToChannelsLast())).flatten(1);
            return model.TopLayer!.forward(parts["classifier"].forward(h));
        }
        var grads = new List<Tensor[]>();
        var outputs = new List<Tensor>();
        foreach (var run in new Func<Tensor>[] { () => model.forward(x), Published })
        {
            model.zero_grad();
            manual_seed(11);                                    // same dropout masks
            var y = run();
            (y * y).sum().backward();
            outputs.Add(y.detach());
            grads.Add(model.parameters().Where(p => p.requires_grad).Select(p => p.grad!.clone()).ToArray());
        }
        Assert.True(outputs[0].eq(outputs[1]).all().item<bool>(), $"outputs differ by {(outputs[0] - outputs[1]).abs().max().item<float>()}");
        for (int i = 0; i < grads[0].Length; i++) Assert.True(grads[0][i].eq(grads[1][i]).all().item<bool>(), $"gradient {i} differs");
        Assert.True(grads[0][0].abs().sum().item<float>() > 0, "first conv received no gradient");
    }

    [Fact]
    public void TopLayerCanBeRemovedAndReplaced()
    {
        using var model = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 5);
        model.SetTopLayer(null);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("top_layer"));
        model.eval();
        using (var x = randn(2, 3, 28, 28)) using (var y = model.forward(x))
        {
            Assert.Equal(new long[] { 2, 512 }, y.shape);
            Assert.True(y.min().item<float>() >= 0); // classifier ends with ReLU
        }
        model.SetTopLayer(nn.Linear(512, 13));
        Assert.Equal(new long[] { 13, 512 }, model.state_dict()["top_layer.weight"].shape);
    }

    [Fact]
    public void SobelIsFrozenAndFindsAVerticalEdge()
    {
        using var sobel = Sobel.Create();
        Assert.All(sobel.parameters(), p => Assert.False(p.requires_grad));
        // Left half 0, right half 1 (every channel): grey = same; Gx = -4 on the two columns at the edge, Gy = 0 inside.
        using var img = zeros(1, 3, 6, 6);
        img[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(3)] = tensor(1f);
        using var y = sobel.forward(img);
        Assert.Equal(new long[] { 1, 2, 6, 6 }, y.shape);
        var gx = y[0, 0]; var gy = y[0, 1];
        for (int r = 1; r < 5; r++)
        {
            Assert.Equal(0f, gx[r, 0].item<float>(), 5);
            Assert.Equal(-4f, gx[r, 2].item<float>(), 5);
            Assert.Equal(-4f, gx[r, 3].item<float>(), 5);
            Assert.Equal(0f, gy[r, 2].item<float>(), 5);
        }
    }

    [Fact]
    public void InitialisationFollowsThePublishedCode()
    {
        using var model = ModelFactory.Create("alexnet", sobel: false, numClasses: 100);
        var sd = model.state_dict();
        var w0 = sd["features.0.weight"];                   // 96 x 3 x 11 x 11: std sqrt(2 / (11·11·96))
        Assert.InRange(w0.std().item<float>(), 0.9 * Math.Sqrt(2.0 / (11 * 11 * 96)), 1.1 * Math.Sqrt(2.0 / (11 * 11 * 96)));
        Assert.Equal(0f, sd["features.0.bias"].abs().max().item<float>());
        Assert.Equal(1f, sd["features.1.weight"].min().item<float>());
        Assert.InRange(sd["classifier.1.weight"].std().item<float>(), 0.0099, 0.0101);
        Assert.Equal(0f, sd["top_layer.bias"].abs().max().item<float>());
    }

    [Theory]
    [InlineData("alexnet_small", true, 28)]
    [InlineData("alexnet", false, 224)]
    public void SameOutputsAsPyTorchWithTheSameWeights(string arch, bool sobel, int size)
    {
        using var dir = new TempDir();
        using var model = ModelFactory.Create(arch, sobel, numClasses: 6);
        model.eval();
        // Non-trivial BN statistics so running stats matter.
        using (no_grad())
            foreach (var (name, t) in model.state_dict())
                if (name.EndsWith("running_mean")) t.uniform_(-0.1, 0.1);
                else if (name.EndsWith("running_var")) t.uniform_(0.5, 1.5);
        var names = new StringBuilder();
        foreach (var (name, t) in model.state_dict())
        {
            if (t.dtype != ScalarType.Float32) continue;
            File.WriteAllBytes(dir.File(name + ".bin"), t.contiguous().data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray());
            names.AppendLine(name);
        }
        File.WriteAllText(dir.File("names.txt"), names.ToString());
        using var x = randn(2, 3, size, size, generator: new Generator(7));
        File.WriteAllBytes(dir.File("x.bin"), x.data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray());
        using var y = model.forward(x);
        using var e = model.Embed(x);
        var py = PythonPeer.Run(PythonModels.Preamble + $$"""
            d = sys.argv[1]
            m = ARCHS['{{arch}}'](sobel={{(sobel ? "True" : "False")}}, out=6).eval()
            sd = m.state_dict()
            for name in open(d + '/names.txt').read().split():
                sd[name].copy_(torch.from_numpy(np.fromfile(d + '/' + name + '.bin', dtype=np.float32).reshape(sd[name].shape)))
            x = torch.from_numpy(np.fromfile(d + '/x.bin', dtype=np.float32).reshape(2, 3, {{size}}, {{size}}))
            with torch.no_grad():
                print(' '.join(repr(float(v)) for v in m(x).flatten()))
                print(' '.join(repr(float(v)) for v in m.embed(x).flatten()))
            """, dir.Path);
        var lines = py.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        PythonNumbers.AssertClose(lines[0], y.data<float>().ToArray(), 1e-4);
        PythonNumbers.AssertClose(lines[1], e.data<float>().ToArray(), 1e-4);
    }
}
