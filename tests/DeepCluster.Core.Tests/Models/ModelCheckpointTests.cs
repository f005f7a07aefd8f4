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
}
