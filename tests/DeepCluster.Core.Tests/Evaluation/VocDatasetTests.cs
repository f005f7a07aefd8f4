using DeepCluster.Core.Evaluation.Voc;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Evaluation;

public class VocDatasetTests
{
    public VocDatasetTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void ReadsTheTwentyClassFilesOfASplitWithDifficultLabels()
    {
        using var dir = new TempDir();
        VocFixture.Build(dir.Path, train: 10, val: 6, side: 20);
        var train = VocDataset.Open(dir.Path, "train");
        Assert.Equal(10, train.Count);
        Assert.Equal("train_003", train.Name(3));
        Assert.Equal(Path.Combine(dir.Path, "JPEGImages", "train_003.jpg"), train.Describe(3));
        for (int i = 0; i < 10; i++)
            for (int c = 0; c < 20; c++)
                Assert.Equal(VocFixture.Label(i, c), train.Targets[i * 20 + c]);
        Assert.Equal(2 * 5, train.DifficultCount);   // images 0 and 5, five classes each
        var image = train.Load(2);
        Assert.Equal((20, 20), (image.Width, image.Height));
        Assert.Equal(16, VocDataset.Open(dir.Path, "trainval").Count);
    }

    [Theory]
    [InlineData("no-class-file", "no cat_train.txt")]
    [InlineData("no-split", "no aeroplane_train.txt (nor the files of 19 other classes)")]
    [InlineData("bad-label", "bird_train.txt:2: expected 'name label' with label 1, -1 or 0, got 'train_001 2'")]
    [InlineData("other-images", "cow_train.txt: image stranger is not in aeroplane_train.txt")]
    [InlineData("fewer-images", "dog_train.txt: lists 9 of the 10 images of aeroplane_train.txt (e.g. not train_009)")]
    [InlineData("no-jpeg", "train_004.jpg: no such image (aeroplane_train.txt lists it)")]
    [InlineData("no-jpeg-folder", "no JPEGImages folder")]
    public void BrokenLayoutsAreOneLineNamingTheFile(string kind, string expected)
    {
        using var dir = new TempDir();
        VocFixture.Build(dir.Path, train: 10, val: 2, side: 12);
        var sets = Path.Combine(dir.Path, "ImageSets", "Main");
        switch (kind)
        {
            case "no-class-file": File.Delete(Path.Combine(sets, "cat_train.txt")); break;
            case "no-split": foreach (var f in Directory.GetFiles(sets, "*_train.txt")) File.Delete(f); break;
            case "bad-label": Rewrite(Path.Combine(sets, "bird_train.txt"), 1, "train_001 2"); break;
            case "other-images": Rewrite(Path.Combine(sets, "cow_train.txt"), 0, "stranger -1"); break;
            case "fewer-images":
                File.WriteAllLines(Path.Combine(sets, "dog_train.txt"), File.ReadAllLines(Path.Combine(sets, "dog_train.txt")).Take(9));
                break;
            case "no-jpeg": File.Delete(Path.Combine(dir.Path, "JPEGImages", "train_004.jpg")); break;
            case "no-jpeg-folder": Directory.Delete(Path.Combine(dir.Path, "JPEGImages"), true); break;
        }
        var e = Assert.ThrowsAny<Exception>(() => VocDataset.Open(dir.Path, "train"));
        Assert.True(e is InvalidDataException or DirectoryNotFoundException, e.ToString());
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    static void Rewrite(string file, int line, string text)
    {
        var lines = File.ReadAllLines(file);
        lines[line] = text;
        File.WriteAllLines(file, lines);
    }

    [Fact]
    public void TheLossIgnoresDifficultLabelsAndAveragesOverTheBatch()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 2f, -1f, 0.5f, 3f, 0f, -2f }, [2, 3]).requires_grad_();
        var labels = tensor(new byte[] { 1, 0, 255, 0, 255, 1 }, [2, 3]).to(int8);   // rows: (1, 0, -1), (0, -1, 1)
        var loss = VocFineTuning.MaskedLoss(logits, labels);
        static double Bce(double x, double y) => Math.Max(x, 0) - x * y + Math.Log(1 + Math.Exp(-Math.Abs(x)));
        double expected = (Bce(2, 1) + Bce(0.5, 0) + Bce(0, 0) + Bce(-2, 1)) / 2;
        Assert.Equal(expected, loss.item<float>(), 5);
        loss.backward();
        var grad = logits.grad!.data<float>().ToArray();
        Assert.Equal(0f, grad[1]);                          // difficult: no gradient at all
        Assert.Equal(0f, grad[3]);
        Assert.NotEqual(0f, grad[0]);
        // A difficult logit can be anything: the loss does not move.
        var moved = tensor(new float[] { 2f, 40f, 0.5f, -40f, 0f, -2f }, [2, 3]);
        Assert.Equal(loss.item<float>(), VocFineTuning.MaskedLoss(moved, labels).item<float>());
    }
}

public class VocFineTuningSetupTests
{
    public VocFineTuningSetupTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData(true, false, new[] { "classifier.1.weight", "classifier.1.bias", "classifier.4.weight", "classifier.4.bias", "top_layer.weight", "top_layer.bias" })]
    [InlineData(true, true, null)]
    [InlineData(false, false, null)]
    public void FreezesWhatTheModeSaysAndReinitialisesTheFullyConnectedLayers(bool fc6To8, bool batchNorm, string[]? expected)
    {
        using var dir = new TempDir();
        VocFixture.Build(dir.File("voc"), train: 2, val: 1, side: 12);
        var data = Core.Evaluation.Voc.VocDataset.Open(dir.File("voc"), "train");
        using var net = Core.Evaluation.EvaluatedModel.Load(null, "alexnet_small", false, 3, CPU);
        var features = net.named_parameters().Where(p => p.name.StartsWith("features.")).ToDictionary(p => p.name, p => p.parameter.clone());
        var settings = new VocEvalSettings(null, dir.File("voc"), "alexnet_small", Fc6To8: fc6To8, TrainBatchNorm: batchNorm);
        var run = new VocFineTuning(net, data, data, settings, new VocEvalFolder(dir.File("exp")), CPU);
        var names = net.named_parameters().ToDictionary(p => p.parameter.Handle, p => p.name);
        var trained = run.TrainedParameters.Select(p => names[p.Handle]).ToList();
        var fc = trained.Where(n => !n.StartsWith("features.")).ToList();
        Assert.Equal(6, fc.Count);
        if (expected is not null) Assert.Equal(expected.OrderBy(n => n), trained.OrderBy(n => n));
        var bnNames = net.named_modules().Where(m => m.module is TorchSharp.Modules.BatchNorm2d)
            .SelectMany(m => new[] { m.name + ".weight", m.name + ".bias" }).ToList();
        if (fc6To8 && batchNorm) Assert.Equal(bnNames.Concat(fc).OrderBy(n => n), trained.OrderBy(n => n));
        if (!fc6To8) Assert.Equal(net.named_parameters().Select(p => p.name).OrderBy(n => n), trained.OrderBy(n => n));
        // The conv weights are the evaluated model's (the published script re-drew them when fine-tuning everything).
        foreach (var (name, p) in net.named_parameters().Where(p => p.name.StartsWith("features.")))
            Assert.True(p.eq(features[name]).all().item<bool>(), name);
        var sd = net.state_dict();
        foreach (var key in fc.Where(n => n.EndsWith(".bias"))) Assert.True(sd[key].eq(0.1f).all().item<bool>(), key);
        foreach (var key in fc.Where(n => n.EndsWith(".weight")))
            Assert.InRange(sd[key].std().item<float>(), 0.0095f, 0.0105f);
    }
}
