using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.IO;

public class CheckpointTests
{
    const double Tol = 1e-4;

    static float MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        using var d = (a.to(float32) - b.to(float32)).abs().max();
        return d.item<float>();
    }

    /// <summary>One SGD step on the eval-mode output's squared sum: exercises lr, momentum buffers and weight decay.</summary>
    static void EvalStep(TinyNet net, TorchSharp.Modules.SGD sgd, Tensor x)
    {
        using var scope = NewDisposeScope();
        net.eval();
        sgd.zero_grad();
        net.forward(x).pow(2).sum().backward();
        sgd.step();
    }

    [Fact]
    public void PyTorchLoadsOurCheckpointModelAndOptimizer()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        manual_seed(7);
        var net = new TinyNet();
        var sgd = optim.SGD(net.parameters(), 0.05, momentum: 0.9, weight_decay: 1e-3);
        for (var i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            net.train();
            sgd.zero_grad();
            net.forward(randn(4, 3, 8, 8)).pow(2).mean().backward();
            sgd.step();
        }
        net.eval();
        var ckpt = dir.File("checkpoint.pth.tar");
        Checkpoint.Save(ckpt, 3, "tinynet", net, sgd);
        Assert.Single(Directory.GetFiles(dir.Path));

        using var x = randn(2, 3, 8, 8);
        NpyFile.WriteTensor(dir.File("x.npy"), x);
        using var ours = net.forward(x).detach();
        EvalStep(net, sgd, x);

        var py = PythonPeer.Run(TinyNet.PyDefinition + """

            import sys, numpy as np
            ckpt_path, x_path, out_dir = sys.argv[1:4]
            ckpt = torch.load(ckpt_path)
            assert set(ckpt) == {'epoch', 'arch', 'state_dict', 'optimizer'}, list(ckpt)
            net = TinyNet()
            net.load_state_dict(ckpt['state_dict'], strict=True)
            opt = torch.optim.SGD(net.parameters(), lr=0.777, momentum=0.1)
            opt.load_state_dict(ckpt['optimizer'])
            g = opt.param_groups[0]
            assert len(opt.state) == 8 and all('momentum_buffer' in s for s in opt.state.values())
            net.eval()
            x = torch.from_numpy(np.load(x_path))
            out = net(x)
            np.save(out_dir + '/out.npy', out.detach().numpy())
            opt.zero_grad(); out.pow(2).sum().backward(); opt.step()
            np.save(out_dir + '/conv_w.npy', net.features[0].weight.detach().numpy())
            np.save(out_dir + '/top_w.npy', net.top_layer.weight.detach().numpy())
            print(ckpt['epoch'], ckpt['arch'], g['lr'], g['momentum'], g['weight_decay'], int(net.features[1].num_batches_tracked))
            """, ckpt, dir.File("x.npy"), dir.Path).Trim().Split(' ');
        Assert.Equal(["3", "tinynet", "0.05", "0.9", "0.001", "3"], py);

        using var pyOut = NpyFile.ReadTensor(dir.File("out.npy"));
        Assert.True(MaxAbsDiff(ours, pyOut) < Tol);
        var sd = net.state_dict();
        using var pyConv = NpyFile.ReadTensor(dir.File("conv_w.npy"));
        using var pyTop = NpyFile.ReadTensor(dir.File("top_w.npy"));
        Assert.True(MaxAbsDiff(sd["features.0.weight"], pyConv) < Tol);
        Assert.True(MaxAbsDiff(sd["top_layer.weight"], pyTop) < Tol);

        // And we resume from it: fresh model and optimizer, same step, same weights.
        using var data = Checkpoint.Load(ckpt);
        Assert.Equal((3, "tinynet"), (data.Epoch, data.Arch));
        var net2 = new TinyNet();
        var sgd2 = optim.SGD(net2.parameters(), 0.5, momentum: 0.9);
        StateDictLoader.LoadInto(net2, data.StateDict, strict: true, source: ckpt);
        Assert.NotNull(data.Optimizer);
        Assert.Equal(8, data.Optimizer!.MomentumBuffers.Count);
        data.Optimizer.RestoreInto(sgd2);
        EvalStep(net2, sgd2, x);
        var sd2 = net2.state_dict();
        Assert.True(MaxAbsDiff(sd2["features.0.weight"], pyConv) < Tol);
        Assert.True(MaxAbsDiff(sd2["top_layer.weight"], pyTop) < Tol);
    }

    [Fact]
    public void CheckpointWriteIsAtomic()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        var path = dir.File("checkpoint.pth.tar");
        File.WriteAllText(path, "previous");
        using var t = ones(2);
        var sd = new Dictionary<string, Tensor> { ["w"] = t };
        var bad = new SgdState { ParamGroups = [null!], MomentumBuffers = [] };
        Assert.ThrowsAny<Exception>(() => Checkpoint.Save(path, 1, "x", sd, bad));
        Assert.Equal("previous", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));
        Checkpoint.Save(path, 1, "x", sd, null);
        using var back = Checkpoint.Load(path);
        Assert.Null(back.Optimizer);
        Assert.Equal([1f, 1f], back.StateDict["w"].data<float>().ToArray());
    }
}
