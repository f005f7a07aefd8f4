using System.Globalization;
using System.Text.Json;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.IO;

public class StateDictLoaderTests
{
    const string WritePyTorchFiles = TinyNet.PyDefinition + """

        import sys, numpy as np
        d = sys.argv[1]
        torch.manual_seed(3)
        net = TinyNet()
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        net.train()
        for _ in range(4):  # non-trivial BN running stats and num_batches_tracked
            opt.zero_grad(); net(torch.randn(6, 3, 8, 8) * 2 + 0.5).pow(2).mean().backward(); opt.step()
        net.eval()
        x = torch.randn(2, 3, 8, 8)
        np.save(d + '/x.npy', x.numpy())
        np.save(d + '/out.npy', net(x).detach().numpy())
        torch.save(net.state_dict(), d + '/zip.pth')
        net.features = torch.nn.DataParallel(net.features)  # as DeepCluster's AlexNet/VGG16
        assert 'features.module.0.weight' in net.state_dict()
        torch.save({'epoch': 5, 'arch': 'tinynet', 'state_dict': net.state_dict(), 'optimizer': opt.state_dict()},
                   d + '/legacy.pth.tar', _use_new_zipfile_serialization=False)
        torch.save({'epoch': 5, 'arch': 'tinynet', 'state_dict': net.state_dict(), 'optimizer': opt.state_dict()},
                   d + '/zipckpt.pth.tar')
        """;

    static float MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        using var d = (a - b).abs().max();
        return d.item<float>();
    }

    [Fact]
    public void PyTorchZipAndLegacyFilesLoadIntoOurModule()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        PythonPeer.Run(WritePyTorchFiles, dir.Path);
        Assert.NotEqual((byte)'P', File.ReadAllBytes(dir.File("legacy.pth.tar"))[0]);
        using var x = NpyFile.ReadTensor(dir.File("x.npy"));
        using var expected = NpyFile.ReadTensor(dir.File("out.npy"));

        foreach (var file in new[] { "zip.pth", "legacy.pth.tar", "zipckpt.pth.tar" })
        {
            var net = new TinyNet();
            var sd = StateDictLoader.Load(dir.File(file));
            Assert.Contains("features.1.running_mean", sd.Keys);
            Assert.Contains("features.1.num_batches_tracked", sd.Keys);
            Assert.DoesNotContain(sd.Keys, k => k.Contains("module"));
            StateDictLoader.LoadInto(net, sd, strict: true, source: file);
            foreach (var t in sd.Values) t.Dispose();
            net.eval();
            using var ours = net.forward(x);
            Assert.True(MaxAbsDiff(ours, expected) < 1e-4, file);
            var buffers = net.named_buffers().ToDictionary(b => b.name, b => b.buffer);
            Assert.Equal(4, buffers["features.1.num_batches_tracked"].item<long>());
        }
    }

    [Fact]
    public void LegacyCheckpointCarriesEpochArchAndOptimizer()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        PythonPeer.Run(WritePyTorchFiles, dir.Path);
        using var data = Checkpoint.Load(dir.File("legacy.pth.tar"));
        Assert.Equal((5, "tinynet"), (data.Epoch, data.Arch));
        Assert.NotNull(data.Optimizer);
        var g = Assert.Single(data.Optimizer!.ParamGroups);
        Assert.Equal((0.05, 0.9), (g.Lr, g.Momentum));
        Assert.Equal(Enumerable.Range(0, 8), g.Params);
        Assert.Equal(8, data.Optimizer.MomentumBuffers.Count);
        Assert.Equal(new long[] { 8, 3, 3, 3 }, data.Optimizer.MomentumBuffers[0].shape);

        var noHead = StateDictLoader.Load(dir.File("legacy.pth.tar"), new StateDictOptions(DropTopLayer: true));
        Assert.DoesNotContain(noHead.Keys, k => k.StartsWith("top_layer."));
        var (missing, unexpected) = StateDictLoader.LoadInto(new TinyNet(), noHead, strict: false);
        Assert.Equal(["top_layer.bias", "top_layer.weight"], missing);
        Assert.Empty(unexpected);
    }

    [Fact]
    public void LegacyStoragesOfEveryDtypeViewsAndSharedStorage()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        var json = PythonPeer.Run("""
            import sys, json, torch
            from collections import OrderedDict
            base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 7
            sd = OrderedDict()
            sd['f32'] = base
            sd['f64'] = torch.linspace(-1, 1, 5, dtype=torch.float64)
            sd['f16'] = torch.tensor([0.5, -2.25, 1024.0], dtype=torch.float16)
            sd['i64'] = torch.tensor([2**40, -3], dtype=torch.int64)
            sd['i32'] = torch.tensor([[7, -8], [9, 10]], dtype=torch.int32)
            sd['u8'] = torch.tensor([0, 255, 17], dtype=torch.uint8)
            sd['b'] = torch.tensor([True, False, True])
            sd['t'] = base.t()                # non-contiguous view of the same storage
            sd['row'] = base[2]               # storage offset
            sd['scalar'] = torch.tensor(3.5)  # 0-d
            torch.save(sd, sys.argv[1], _use_new_zipfile_serialization=False)
            print(json.dumps({k: {'shape': list(v.shape), 'values': v.double().flatten().tolist()} for k, v in sd.items()}))
            """, dir.File("legacy.pth"));
        var expected = JsonDocument.Parse(json).RootElement;
        var sd = StateDictLoader.Load(dir.File("legacy.pth"));
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(), sd.Keys.Order());
        var dtypes = new Dictionary<string, ScalarType>
        {
            ["f32"] = ScalarType.Float32, ["f64"] = ScalarType.Float64, ["f16"] = ScalarType.Float16, ["i64"] = ScalarType.Int64,
            ["i32"] = ScalarType.Int32, ["u8"] = ScalarType.Byte, ["b"] = ScalarType.Bool,
        };
        foreach (var p in expected.EnumerateObject())
        {
            var t = sd[p.Name];
            if (dtypes.TryGetValue(p.Name, out var dt)) Assert.Equal(dt, t.dtype);
            Assert.Equal(p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), t.shape);
            using var flat = t.to(float64).flatten();
            Assert.Equal(p.Value.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()), flat.data<double>().ToArray());
        }
    }

    [Fact]
    public void Torch03StyleRebuildTensorAndStorageViews()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        // Hand-writes the legacy stream as PyTorch 0.3 did: _rebuild_tensor (v1) and a persistent id with view
        // metadata (a view 4 elements into a root storage). torch.load reading it back is the reference.
        var json = PythonPeer.Run("""
            import sys, json, pickle, struct, torch
            from collections import OrderedDict
            class Storage:
                def __init__(self, key, n, view=None): self.key, self.n, self.view = key, n, view
            class Tensor:
                def __init__(self, *args): self.args = args
                def __reduce__(self): return (torch._utils._rebuild_tensor, self.args)
            root_view = Storage('root', 10, ('view1', 4, 6))
            root = Storage('root', 10)
            sd = OrderedDict([('module.a', Tensor(root_view, 1, (2, 2), (2, 1))), ('b', Tensor(root, 0, (10,), (1,)))])
            with open(sys.argv[1], 'wb') as f:
                for header in (0x1950a86a20f9469cfc6c, 1001, {'protocol_version': 1001, 'little_endian': True}):
                    pickle.dump(header, f, protocol=2)
                p = pickle.Pickler(f, protocol=2)
                p.persistent_id = lambda o: ('storage', torch.FloatStorage, o.key, 'cpu', o.n, o.view) if isinstance(o, Storage) else None
                p.dump(sd)
                pickle.dump(['root'], f, protocol=2)
                f.write(struct.pack('<q', 10) + struct.pack('<10f', *[i / 4 for i in range(10)]))
            back = torch.load(sys.argv[1])
            print(json.dumps({k: v.flatten().tolist() for k, v in back.items()}))
            """, dir.File("old.pth"));
        var expected = JsonSerializer.Deserialize<Dictionary<string, double[]>>(json)!;
        var sd = StateDictLoader.Load(dir.File("old.pth"));
        Assert.Equal(new long[] { 2, 2 }, sd["a"].shape);
        Assert.Equal(expected["module.a"].Select(v => (float)v), sd["a"].flatten().data<float>().ToArray());
        Assert.Equal(expected["b"].Select(v => (float)v), sd["b"].data<float>().ToArray());
    }

    [Fact]
    public void CorruptAndTruncatedFilesNameTheFile()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        PythonPeer.Run(WritePyTorchFiles, dir.Path);
        foreach (var name in new[] { "legacy.pth.tar", "zip.pth" })
        {
            var bytes = File.ReadAllBytes(dir.File(name));
            foreach (var cut in new[] { 3, 40, bytes.Length / 2, bytes.Length - 100 })
            {
                var path = dir.File($"cut{cut}-{name}");
                File.WriteAllBytes(path, bytes[..cut]);
                var e = Assert.Throws<InvalidDataException>(() => StateDictLoader.Load(path));
                Assert.Contains(path, e.Message);
            }
        }
        File.WriteAllBytes(dir.File("junk.pth"), Enumerable.Range(0, 999).Select(i => (byte)(i * 37)).ToArray());
        Assert.Contains(dir.File("junk.pth"), Assert.Throws<InvalidDataException>(() => StateDictLoader.Load(dir.File("junk.pth"))).Message);
        Assert.Throws<FileNotFoundException>(() => StateDictLoader.Load(dir.File("absent.pth")));
    }

    [Fact]
    public void StrictMismatchListsKeysAndShapes()
    {
        TorchRuntime.EnsureLoaded();
        var net = new TinyNet();
        var sd = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        sd.Remove("top_layer.bias");
        sd["extra.weight"] = zeros(3);
        var e = Assert.Throws<InvalidDataException>(() => StateDictLoader.LoadInto(new TinyNet(), sd, strict: true, source: "/some/model.pth"));
        Assert.Contains("/some/model.pth", e.Message);
        Assert.Contains("missing keys: top_layer.bias", e.Message);
        Assert.Contains("unexpected keys: extra.weight", e.Message);

        sd["top_layer.bias"] = zeros(7);
        e = Assert.Throws<InvalidDataException>(() => StateDictLoader.LoadInto(new TinyNet(), sd, strict: false, source: "m.pth"));
        Assert.Contains("top_layer.bias: file (7) vs module (5)", e.Message);
        Assert.DoesNotContain("extra.weight", e.Message);
    }

    [Fact]
    public void MissingNumBatchesTrackedIsToleratedAsInOldPyTorch()
    {
        TorchRuntime.EnsureLoaded();
        var sd = new TinyNet().state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        sd.Remove("features.1.num_batches_tracked");
        var (missing, unexpected) = StateDictLoader.LoadInto(new TinyNet(), sd, strict: true);
        Assert.Empty(missing);
        Assert.Empty(unexpected);
    }

    [Fact]
    public void NormalizeKeyStripsDataParallel()
    {
        Assert.Equal("features.0.weight", StateDictLoader.NormalizeKey("features.module.0.weight"));
        Assert.Equal("features.0.weight", StateDictLoader.NormalizeKey("module.features.0.weight"));
        Assert.Equal("top_layer.bias", StateDictLoader.NormalizeKey("top_layer.bias"));
    }
}
