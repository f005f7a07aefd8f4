using System.Globalization;
using DeepCluster.Core.IO;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using DeepCluster.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Models;

/// <summary>
/// The DeepCluster models through real checkpoint files: ours load in PyTorch (strict) with the same outputs, and
/// PyTorch's — zip, and the legacy format of the released models with DataParallel keys — load into ours.
/// </summary>
public class ModelCheckpointTests
{
    public ModelCheckpointTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void OurCheckpointLoadsStrictlyInPyTorchWithTheSameOutputs()
    {
        using var dir = new TempDir();
        manual_seed(11);
        using var model = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 0);
        using var trainer = new Trainer(model, new SgdSettings(), CPU);
        trainer.ResetHead(9);
        using (var xs = randn(16, 3, 28, 28)) using (var ys = randint(0, 9, [16], dtype: int64))
            for (int i = 0; i < 3; i++) trainer.Step(xs, ys);     // momentum buffers and BN statistics are non-trivial
        ModelFiles.Save(dir.File("checkpoint.pth.tar"), model, trainer.Optimizer, 4, "alexnet_small");
        model.eval();
        using var x = randn(4, 3, 28, 28, generator: new Generator(3));
        NpyFile.WriteTensor(dir.File("x.npy"), x);
        using var ours = model.forward(x);
        var py = PythonPeer.Run(PythonModels.Preamble + """
            d = sys.argv[1]
            ck = torch.load(d + '/checkpoint.pth.tar')
            m = ARCHS[ck['arch']](sobel=True, out=9)
            m.load_state_dict(ck['state_dict'], strict=True)
            head, m.top_layer = m.top_layer, None          # main.py builds the optimizer without the head
            opt = torch.optim.SGD(filter(lambda p: p.requires_grad, m.parameters()), lr=0.1, momentum=0.9)
            opt.load_state_dict(ck['optimizer'])
            m.top_layer = head
            m.eval()
            with torch.no_grad():
                y = m(torch.from_numpy(np.load(d + '/x.npy')))
            print(ck['epoch'], len(opt.state))
            print(' '.join(repr(float(v)) for v in y.flatten()))
            """, dir.Path);
        var lines = py.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("4 ", lines[0]);
        Assert.True(int.Parse(lines[0].Split(' ')[1]) > 10, "momentum buffers restored in PyTorch's optimizer");
        PythonNumbers.AssertClose(lines[1], ours.data<float>().ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PyTorchCheckpointsLoadIntoOurModel(bool legacyDataParallel)
    {
        using var dir = new TempDir();
        using var x = randn(4, 3, 28, 28, generator: new Generator(5));
        NpyFile.WriteTensor(dir.File("x.npy"), x);
        var py = PythonPeer.Run(PythonModels.Preamble + $$"""
            d = sys.argv[1]
            torch.manual_seed(2)
            m = ARCHS['alexnet_small'](sobel=True, out=7)
            for mod in m.modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 1.5)
            m.eval()
            with torch.no_grad():
                e = m.embed(torch.from_numpy(np.load(d + '/x.npy')))
            legacy = {{(legacyDataParallel ? "True" : "False")}}
            if legacy:
                m.features = torch.nn.DataParallel(m.features)   # the released models' features.module.* keys
            torch.save({'epoch': 100, 'arch': 'alexnet_small', 'state_dict': m.state_dict()}, d + '/ck.pth.tar',
                       _use_new_zipfile_serialization=not legacy)
            print(' '.join(repr(float(v)) for v in e.flatten()))
            """, dir.Path);
        using var model = ModelFiles.LoadModel(dir.File("ck.pth.tar"), "alexnet_small", sobel: true, CPU);
        model.eval();
        using var ours = model.Embed(x);
        PythonNumbers.AssertClose(py.Trim(), ours.data<float>().ToArray());
    }

    /// <summary>
    /// The test of the released models: a legacy-format (pre-1.6) file shaped like the released AlexNet —
    /// full-size AlexNet with Sobel built from the published models/alexnet.py definition, <c>features.module.*</c> keys
    /// (DataParallel), no <c>optimizer</c>, no <c>num_batches_tracked</c> (PyTorch 0.3) — loads through the loader every
    /// <c>--model</c> uses, with the architecture, Sobel and k read from the file, and gives PyTorch's outputs.
    /// </summary>
    [Fact]
    public void ReleasedAlexNetShapedLegacyCheckpointGivesPyTorchsOutputs()
    {
        using var dir = new TempDir();
        PythonPeer.Run(PythonModels.Preamble + """
            d = sys.argv[1]
            torch.manual_seed(3)
            m = ARCHS['alexnet'](sobel=True, out=100)
            for mod in m.modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 1.5)
                    mod.weight.data.uniform_(0.5, 1.5); mod.bias.data.uniform_(-0.1, 0.1)
            m.eval()
            x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(4))
            with torch.no_grad():
                y, e = m(x), m.embed(x)
            m.features = torch.nn.DataParallel(m.features)
            sd = m.state_dict()
            for k in [k for k in sd if k.endswith('num_batches_tracked')]:
                del sd[k]
            assert 'features.module.0.weight' in sd and 'sobel.0.weight' in sd
            torch.save({'epoch': 500, 'arch': 'alexnet', 'state_dict': sd}, d + '/checkpoint.pth.tar',
                       _use_new_zipfile_serialization=False)
            for name, t in (('x', x), ('y', y), ('e', e)):
                np.save(d + '/' + name + '.npy', t.numpy())
            """, dir.Path);
        var file = dir.File("checkpoint.pth.tar");
        Assert.NotEqual((byte)'P', File.ReadAllBytes(file)[0]);          // the legacy format, not a zip archive
        using (var data = Checkpoint.Load(file))
        {
            Assert.Null(data.Optimizer);
            Assert.Equal(500, data.Epoch);
            Assert.Contains("features.0.weight", data.StateDict.Keys);
        }
        using var x = NpyFile.ReadTensor(dir.File("x.npy"));
        using var y = NpyFile.ReadTensor(dir.File("y.npy"));
        using var e = NpyFile.ReadTensor(dir.File("e.npy"));

        using (var withHead = DeepCluster.Core.Evaluation.EvaluatedModel.Load(file, arch: null, sobel: false, seed: 0, CPU, withHead: true))
        {
            Assert.Equal("alexnet", withHead.Arch);
            Assert.True(withHead.UsesSobel);
            Assert.Equal(100, withHead.TopLayer!.weight!.shape[0]);       // k from top_layer.bias
            using var ours = withHead.forward(x);
            AssertClose(y, ours);
        }
        using var trunk = DeepCluster.Core.Evaluation.EvaluatedModel.Load(file, arch: "alexnet", sobel: false, seed: 0, CPU);
        Assert.Null(trunk.TopLayer);
        using var features = trunk.Embed(x);
        AssertClose(e, features);
    }

    static void AssertClose(Tensor expected, Tensor actual)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(expected.shape, actual.shape);
        var scale = expected.abs().max().item<float>();
        var diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= 1e-4 * Math.Max(scale, 1f), $"max abs diff {diff} (largest value {scale})");
    }
}
