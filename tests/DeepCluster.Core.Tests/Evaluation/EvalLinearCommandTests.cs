using System.Text.Json;
using DeepCluster.Core.Evaluation;
using DeepCluster.Core.IO;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.Evaluation;

[Collection("Console")]
public class EvalLinearCommandTests
{
    public EvalLinearCommandTests() => TorchRuntime.EnsureLoaded();

    static (int Code, string Out, string Err) Run(params string[] args)
        => CliInProcess.Run(args);

    static JsonElement Results(string exp) => JsonDocument.Parse(File.ReadAllText(Path.Combine(exp, "results.json"))).RootElement;

    [Fact]
    public void SeparableImageFolderReachesHighAccuracyAndSavesAClassifierPyTorchLoads()
    {
        using var dir = new TempDir();
        EvalFixtures.ImageFolder(dir.File("data"));
        var exp = dir.File("exp");
        var (code, stdout, err) = Run("eval-linear", "--data", dir.File("data"), "--arch", "alexnet_small", "--conv", "2",
                                      "--epochs", "4", "--batch_size", "8", "--workers", "2", "--exp", exp, "--device", "cpu");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("epoch 4/4:", stdout);
        var r = Results(exp);
        Assert.True(r.GetProperty("best_top1").GetDouble() >= 90, stdout);
        Assert.Equal(64 * 5 * 5, r.GetProperty("dim").GetInt32());
        Assert.Equal(4, File.ReadAllLines(Path.Combine(exp, "metrics.jsonl")).Length);
        Assert.StartsWith("alexnet_small conv2 (1600 dims): best top-1", File.ReadAllText(Path.Combine(exp, "summary.txt")));
        var py = PythonPeer.Run("""
            import sys, torch
            ck = torch.load(sys.argv[1] + '/model_best.pth.tar')
            reglog = torch.nn.Module(); reglog.linear = torch.nn.Linear(1600, 3)
            reglog.load_state_dict(ck['state_dict'])
            print(ck['epoch'], ck['arch'], ck['conv'], sorted(ck['state_dict']), round(ck['best_prec1'], 4), sorted(ck['optimizer']))
            """, exp);
        var bestEpoch = r.GetProperty("best_epoch").GetInt32();
        Assert.Equal($"{bestEpoch + 1} alexnet_small 2 ['linear.bias', 'linear.weight'] {Math.Round(r.GetProperty("best_top1").GetDouble(), 4):0.0###} ['param_groups', 'state']",
                     py.Trim());
    }

    /// <summary>train.dcpack and val.dcpack of `deepcluster pack` stand for train/ and val/: the same run, to the digit.</summary>
    [Fact]
    public void PacksOfTheSplitsGiveTheRunOfTheirFolders()
    {
        using var dir = new TempDir();
        var folders = dir.File("folders");
        EvalFixtures.ImageFolder(folders, trainPerClass: 8, valPerClass: 4);
        var packs = dir.File("packs");
        Directory.CreateDirectory(packs);
        foreach (var split in new[] { "train", "val" })
        {
            var (packCode, packOut, packErr) = Run("pack", Path.Combine(folders, split), Path.Combine(packs, split + ".dcpack"));
            Assert.True(packCode == 0, packErr + packOut);
        }
        string[] Flags(string data, string exp) =>
            ["eval-linear", "--data", data, "--arch", "alexnet_small", "--conv", "3", "--epochs", "2", "--batch_size", "8",
             "--workers", "2", "--exp", exp, "--device", "cpu"];
        var (code, stdout, err) = Run(Flags(folders, dir.File("exp-folders")));
        Assert.True(code == 0, err + stdout);
        (code, stdout, err) = Run(Flags(packs, dir.File("exp-packs")));
        Assert.True(code == 0, err + stdout);
        Assert.Equal(File.ReadAllLines(Path.Combine(dir.File("exp-folders"), "metrics.jsonl")).Select(WithoutTimes),
                     File.ReadAllLines(Path.Combine(dir.File("exp-packs"), "metrics.jsonl")).Select(WithoutTimes));
    }

    /// <summary>A metrics line without its wall-clock fields (seconds, images/s), which differ between any two runs.</summary>
    static string WithoutTimes(string line)
    {
        var o = System.Text.Json.Nodes.JsonNode.Parse(line)!.AsObject();
        foreach (var key in o.Select(kv => kv.Key).Where(k => k.Contains("second") || k.Contains("time")).ToList()) o.Remove(key);
        return o.ToJsonString();
    }

    [Fact]
    public void IdxWithTenCropsReachesHighAccuracy()
    {
        using var dir = new TempDir();
        EvalFixtures.Idx(dir.File("idx"));
        var exp = dir.File("exp");
        var (code, stdout, err) = Run("eval-linear", "--data", dir.File("idx"), "--arch", "alexnet_small", "--conv", "1", "--tencrops",
                                      "--epochs", "3", "--batch_size", "8", "--exp", exp, "--device", "cpu");
        Assert.True(code == 0, err + stdout);
        var r = Results(exp);
        Assert.True(r.GetProperty("best_top1").GetDouble() >= 90, stdout);
        Assert.Equal(4, r.GetProperty("classes").GetInt32());
        Assert.Equal(24, r.GetProperty("test_images").GetInt32());
        Assert.True(r.GetProperty("ten_crops").GetBoolean());
    }

    static string[] Numbers(string metricsPath) =>
        File.ReadAllLines(metricsPath).Select(l =>
        {
            var e = JsonSerializer.Deserialize<LinearEvalEpoch>(l, LinearEvalFolder.Json)!;
            return JsonSerializer.Serialize(e with { Seconds = 0, TrainImagesPerSecond = 0 });
        }).ToArray();

    [Fact]
    public void AResumedRunEndsWithTheNumbersOfAnUninterruptedOne()
    {
        using var dir = new TempDir();
        EvalFixtures.Idx(dir.File("idx"), classes: 3, train: 40, test: 12);
        string[] Args(string exp, int epochs) => ["eval-linear", "--data", dir.File("idx"), "--arch", "alexnet_small", "--conv", "3",
                                                  "--epochs", $"{epochs}", "--batch_size", "16", "--exp", exp, "--device", "cpu", "--seed", "5"];
        var whole = dir.File("whole");
        Assert.Equal(0, Run(Args(whole, 4)).Code);

        var parts = dir.File("parts");
        Assert.Equal(0, Run(Args(parts, 2)).Code);
        // As if killed after epoch 3's metrics line but before its checkpoint: the line is dropped on resume.
        File.AppendAllText(Path.Combine(parts, "metrics.jsonl"), File.ReadAllLines(Path.Combine(whole, "metrics.jsonl"))[2] + "\n");
        var (code, stdout, err) = Run(Args(parts, 4));
        Assert.True(code == 0, err + stdout);
        Assert.Contains("resuming", stdout);
        Assert.Contains("at epoch 3 of 4", stdout);
        Assert.DoesNotContain("epoch 1/4:", stdout);
        Assert.Equal(Numbers(Path.Combine(whole, "metrics.jsonl")), Numbers(Path.Combine(parts, "metrics.jsonl")));
        Assert.Equal(Results(whole).GetProperty("best_top1").GetDouble(), Results(parts).GetProperty("best_top1").GetDouble());
        using var a = ClassifierCheckpoint.Load(Path.Combine(whole, "checkpoint.pth.tar"));
        using var b = ClassifierCheckpoint.Load(Path.Combine(parts, "checkpoint.pth.tar"));
        Assert.Equal(a.StateDict["linear.weight"].data<float>().ToArray(), b.StateDict["linear.weight"].data<float>().ToArray());

        // Once finished, the same command has nothing to do; other settings in the same folder are refused.
        var again = Run(Args(parts, 4));
        Assert.Equal(0, again.Code);
        Assert.Contains("nothing to do", again.Out);
        var other = Run([.. Args(parts, 4)[..^2], "--seed", "6"]);
        Assert.Equal(2, other.Code);
        Assert.Contains("seed 5, now 6", other.Err);
    }

    /// <summary>A released-style Caffe model (BGR 0–255 input, Sobel as convolutions) is evaluated like any --model.</summary>
    [Fact]
    public void ACaffeModelIsEvaluated()
    {
        using var dir = new TempDir();
        EvalFixtures.Idx(dir.File("data"), train: 16, test: 8);
        using (var source = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 5))
            DeepCluster.Core.Tests.IO.Caffe.ReleasedCaffeExport.Write(source, dir.File("model.caffemodel"));
        var exp = dir.File("exp");
        var (code, stdout, err) = Run("eval-linear", "--data", dir.File("data"), "--model", dir.File("model.caffemodel"), "--conv", "1",
                                      "--epochs", "1", "--batch_size", "8", "--workers", "1", "--exp", exp, "--device", "cpu");
        Assert.True(code == 0, err + stdout);
        Assert.StartsWith("alexnet_small conv1", File.ReadAllText(Path.Combine(exp, "summary.txt")));
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "no-val", "no val/ folder" },
        { "class-missing", "missing from val/: class2" },
        { "no-t10k", "t10k-images-idx3-ubyte" },
        { "arch-flag-differs", "a model of architecture 'alexnet_small', but --arch says 'vgg16'" },
        { "weights-of-another-arch", "its weights do not fit alexnet" },
        { "no-model-file", "--model" },
        { "not-a-caffemodel", "not a Caffe model" },
        { "training-folder", "holds a training experiment" },
        { "no-model-no-arch", "--model or --arch" },
        { "conv-7", "--conv" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputIsOneClearLineAndExitCode2(string kind, string expected)
    {
        using var dir = new TempDir();
        var data = dir.File("data");
        var exp = dir.File("exp");
        string[] extra = ["--arch", "alexnet_small"];
        switch (kind)
        {
            case "no-val":
                EvalFixtures.ImageFolder(data, trainPerClass: 1, valPerClass: 1);
                Directory.Delete(Path.Combine(data, "val"), true);
                break;
            case "class-missing":
                EvalFixtures.ImageFolder(data, trainPerClass: 1, valPerClass: 1);
                Directory.Delete(Path.Combine(data, "val", "class2"), true);
                break;
            case "no-t10k":
                EvalFixtures.Idx(data, train: 4, test: 2);
                File.Delete(Path.Combine(data, "t10k-images-idx3-ubyte"));
                break;
            case "arch-flag-differs" or "weights-of-another-arch":
                EvalFixtures.Idx(data, train: 4, test: 2);
                using (var m = ModelFactory.Create("alexnet_small", sobel: false, numClasses: 0))
                {
                    var sd = m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
                    Checkpoint.Save(dir.File("m.pth.tar"), 3, kind == "arch-flag-differs" ? "alexnet_small" : "alexnet", sd, null);
                }
                extra = kind == "arch-flag-differs" ? ["--model", dir.File("m.pth.tar"), "--arch", "vgg16"] : ["--model", dir.File("m.pth.tar")];
                break;
            case "no-model-file":
                EvalFixtures.Idx(data, train: 4, test: 2);
                extra = ["--model", dir.File("missing.pth")];
                break;
            case "not-a-caffemodel":
                EvalFixtures.Idx(data, train: 4, test: 2);
                File.WriteAllBytes(dir.File("m.caffemodel"), [0x50, 0x4b, 0x03, 0x04, 0x00]);
                extra = ["--model", dir.File("m.caffemodel")];
                break;
            case "training-folder":
                EvalFixtures.Idx(data, train: 4, test: 2);
                Directory.CreateDirectory(exp);
                File.WriteAllText(Path.Combine(exp, "config.json"), "{}");
                break;
            case "no-model-no-arch":
                EvalFixtures.Idx(data, train: 4, test: 2);
                extra = [];
                break;
            case "conv-7":
                EvalFixtures.Idx(data, train: 4, test: 2);
                break;
        }
        var conv = kind == "conv-7" ? "7" : "1";
        var (code, stdout, err) = Run(["eval-linear", "--data", data, "--conv", conv, "--epochs", "1", "--exp", exp, "--device", "cpu", .. extra]);
        CliErrors.AssertOneLine(code, stdout, err, expected);
        if (kind != "training-folder") Assert.False(File.Exists(Path.Combine(exp, "settings.json")));
    }
}
