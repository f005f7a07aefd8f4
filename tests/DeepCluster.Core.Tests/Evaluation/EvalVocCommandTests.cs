using System.Text.Json;
using DeepCluster.Core.IO;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.Evaluation;

[Collection("Console")]
public class EvalVocCommandTests
{
    public EvalVocCommandTests() => TorchRuntime.EnsureLoaded();

    static (int Code, string Out, string Err) Run(params string[] args)
        => CliInProcess.Run(args);

    static JsonElement Results(string exp) => JsonDocument.Parse(File.ReadAllText(Path.Combine(exp, "results.json"))).RootElement;

    static string[] Args(string voc, string exp, int nit, params string[] extra) =>
        ["eval-voc", "--vocdir", voc, "--arch", "alexnet_small", "--nit", nit.ToString(), "--exp", exp, "--device", "cpu",
         "--workers", "2", "--checkpoint_every", "10", .. extra];

    [Fact]
    public void ShortFineTuningOnColourSeparableClassesBeatsChance()
    {
        using var dir = new TempDir();
        VocFixture.Build(dir.File("voc"), train: 24, val: 12, side: 32);
        var untrained = Run(Args(dir.File("voc"), dir.File("exp0"), 0));
        Assert.True(untrained.Code == 0, untrained.Err + untrained.Out);
        var (code, stdout, err) = Run(Args(dir.File("voc"), dir.File("exp"), 30, "--fc6_8", "0", "--lr", "0.01"));
        Assert.True(code == 0, err + stdout);
        var r = Results(dir.File("exp"));
        var before = Results(dir.File("exp0")).GetProperty("test_map").GetDouble();
        var after = r.GetProperty("test_map").GetDouble();
        // A class is present in a quarter of the images: random scores give an AP near 0.25-0.3.
        Assert.True(after > 0.6 && after > before + 0.2, $"mAP {before:F3} → {after:F3}\n{stdout}");
        Assert.Equal(20, r.GetProperty("test_ap").EnumerateObject().Count());
        Assert.Equal(30, r.GetProperty("iterations").GetInt32());
        Assert.Equal("all", r.GetProperty("mode").GetString());
        Assert.Equal((24, 12), (r.GetProperty("train_images").GetInt32(), r.GetProperty("test_images").GetInt32()));
        Assert.StartsWith("alexnet_small VOC2007 train→val (all, 30 iterations): test mAP", File.ReadAllText(dir.File("exp/summary.txt")));
        Assert.Contains("test mAP", stdout);
        var py = PythonPeer.Run("""
            import sys, torch
            ck = torch.load(sys.argv[1] + '/checkpoint.pth.tar')
            print(ck['iteration'], ck['arch'], ck['fc6_8'], tuple(ck['state_dict']['top_layer.weight'].shape), sorted(ck['optimizer']))
            """, dir.File("exp"));
        Assert.Equal("30 alexnet_small False (20, 512) ['param_groups', 'state']", py.Trim());
    }

    [Fact]
    public void AResumedRunEndsWithTheNumbersOfAnUninterruptedOne()
    {
        using var dir = new TempDir();
        VocFixture.Build(dir.File("voc"), train: 12, val: 4, side: 30);
        string[] flags = ["--stepsize", "7", "--eval_random_crops", "0", "--train_batchnorm", "1"];
        var whole = Run(Args(dir.File("voc"), dir.File("whole"), 16, flags));
        Assert.True(whole.Code == 0, whole.Err + whole.Out);
        var first = Run(Args(dir.File("voc"), dir.File("part"), 12, flags));   // checkpoints at 10 and 12
        Assert.True(first.Code == 0, first.Err + first.Out);
        var rest = Run(Args(dir.File("voc"), dir.File("part"), 16, flags));
        Assert.True(rest.Code == 0, rest.Err + rest.Out);
        Assert.Contains("resuming", rest.Out);
        Assert.Contains("at iteration 12 of 16", rest.Out);
        foreach (var key in new[] { "test_map", "train_map" })
            Assert.Equal(Results(dir.File("whole")).GetProperty(key).GetDouble(), Results(dir.File("part")).GetProperty(key).GetDouble());
        Assert.Equal(Results(dir.File("whole")).GetProperty("test_ap").ToString(), Results(dir.File("part")).GetProperty("test_ap").ToString());
        var other = Run(Args(dir.File("voc"), dir.File("part"), 16, [.. flags[2..], "--stepsize", "8"]));
        Assert.Equal(2, other.Code);
        Assert.Contains("step_size 7, now 8", other.Err);
    }

    /// <summary>
    /// <c>JPEGImages.dcpack</c>, packed as the README says (a folder linking to <c>JPEGImages/</c>, nothing resized at
    /// the default <c>--max-side</c>), stands for <c>JPEGImages/</c>: the same fine-tuning and the same APs, to the digit.
    /// </summary>
    [Fact]
    public void APackOfJpegImagesGivesTheNumbersOfTheFolder()
    {
        using var dir = new TempDir();
        var voc = dir.File("voc");
        VocFixture.Build(voc, train: 12, val: 4, side: 30);
        var packed = dir.File("voc-packed");
        CopyFolder(Path.Combine(voc, "ImageSets"), Path.Combine(packed, "ImageSets"));
        var pack = EvalFixtures.PackFlatFolder(Path.Combine(voc, "JPEGImages"), Path.Combine(packed, "JPEGImages.dcpack"));
        Assert.True(pack.Code == 0, pack.Err + pack.Out);
        string[] flags = ["--stepsize", "7", "--eval_random_crops", "1"];
        var folder = Run(Args(voc, dir.File("exp-folder"), 8, flags));
        Assert.True(folder.Code == 0, folder.Err + folder.Out);
        var (code, stdout, err) = Run(Args(packed, dir.File("exp-pack"), 8, flags));
        Assert.True(code == 0, err + stdout);
        Assert.Contains("images from the pack", stdout);
        foreach (var key in new[] { "test_map", "train_map", "test_ap", "train_ap", "final_loss" })
            Assert.Equal(Results(dir.File("exp-folder")).GetProperty(key).ToString(), Results(dir.File("exp-pack")).GetProperty(key).ToString());
    }

    /// <summary>A pack that lacks an image a split lists is one line naming the pack, the image and the list; exit 2.</summary>
    [Fact]
    public void APackWithoutAListedImageIsOneClearLine()
    {
        using var dir = new TempDir();
        var voc = dir.File("voc");
        VocFixture.Build(voc, train: 4, val: 2, side: 12);
        File.Delete(Path.Combine(voc, "JPEGImages", VocFixture.Name("val", 1) + ".jpg"));
        var pack = EvalFixtures.PackFlatFolder(Path.Combine(voc, "JPEGImages"), Path.Combine(voc, "JPEGImages.dcpack"));
        Assert.True(pack.Code == 0, pack.Err + pack.Out);
        Directory.Delete(Path.Combine(voc, "JPEGImages"), true);
        var (code, stdout, err) = Run(Args(voc, dir.File("exp"), 1));
        CliErrors.AssertOneLine(code, stdout, err, $"JPEGImages.dcpack: holds no image {VocFixture.Name("val", 1)}.jpg (aeroplane_val.txt lists it)");
    }

    static void CopyFolder(string from, string to)
    {
        foreach (var d in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
    }

    /// <summary>
    /// A released-format model (legacy serialization, <c>features.module.*</c> keys, no optimizer, Sobel, a 7-way
    /// top_layer) is fine-tuned with its conv layers frozen: the checkpoint keeps its conv weights bit for bit and has a
    /// new 20-way top layer.
    /// </summary>
    [Fact]
    public void ReleasedModelFineTunesFc6To8WithItsConvLayersKept()
    {
        using var dir = new TempDir();
        VocFixture.Build(dir.File("voc"), train: 8, val: 4, side: 30);
        PythonPeer.Run(PythonModels.Preamble + """
            torch.manual_seed(4)
            m = ARCHS['alexnet_small'](sobel=True, out=7)
            m.features = torch.nn.DataParallel(m.features)
            torch.save({'epoch': 100, 'arch': 'alexnet_small', 'state_dict': m.state_dict()}, sys.argv[1] + '/released.pth',
                       _use_new_zipfile_serialization=False)
            """, dir.Path);
        var exp = dir.File("exp");
        var (code, stdout, err) = Run("eval-voc", "--vocdir", dir.File("voc"), "--model", dir.File("released.pth"), "--nit", "4",
                                      "--eval_random_crops", "0", "--exp", exp, "--device", "cpu", "--workers", "2");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("fine-tuning fc6-8 of alexnet_small", stdout);
        var py = PythonPeer.Run("""
            import sys, torch
            d = sys.argv[1]
            rel = torch.load(d + '/released.pth')['state_dict']
            ck = torch.load(d + '/exp/checkpoint.pth.tar')['state_dict']
            conv = [k for k in rel if k.startswith('features.module.')]
            same = all(torch.equal(rel[k], ck[k.replace('features.module.', 'features.')]) for k in conv)
            moved = not torch.equal(rel['classifier.1.weight'], ck['classifier.1.weight'])
            print(len(conv) > 0, same, moved, tuple(ck['top_layer.weight'].shape), 'sobel.0.weight' in ck)
            """, dir.Path);
        Assert.Equal("True True True (20, 512) True", py.Trim());
    }

    [Theory]
    [InlineData("no-test-split", "no aeroplane_val.txt (nor the files of 19 other classes)")]
    [InlineData("no-class", "no person_train.txt")]
    [InlineData("weights-of-another-arch", "its weights do not fit alexnet")]
    [InlineData("arch-flag-differs", "a model of architecture 'alexnet_small', but --arch says 'vgg16'")]
    [InlineData("no-vocdir", "no such folder")]
    [InlineData("bn-without-fc6-8", "--train_batchnorm 1: only with --fc6_8 1")]
    [InlineData("fc6-8-not-0-or-1", "--fc6_8")]
    public void BadInputIsOneClearLineAndExitCode2(string kind, string expected)
    {
        using var dir = new TempDir();
        var voc = dir.File("voc");
        var exp = dir.File("exp");
        string[] extra = ["--arch", "alexnet_small"];
        if (kind != "no-vocdir") VocFixture.Build(voc, train: 4, val: 2, side: 12);
        var sets = Path.Combine(voc, "ImageSets", "Main");
        switch (kind)
        {
            case "no-test-split": foreach (var f in Directory.GetFiles(sets, "*_val.txt")) File.Delete(f); break;
            case "no-class": File.Delete(Path.Combine(sets, "person_train.txt")); break;
            case "arch-flag-differs" or "weights-of-another-arch":
                using (var m = ModelFactory.Create("alexnet_small", sobel: false, numClasses: 0))
                {
                    var sd = m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
                    Checkpoint.Save(dir.File("m.pth.tar"), 3, kind == "arch-flag-differs" ? "alexnet_small" : "alexnet", sd, null);
                }
                extra = kind == "arch-flag-differs" ? ["--model", dir.File("m.pth.tar"), "--arch", "vgg16"] : ["--model", dir.File("m.pth.tar")];
                break;
            case "bn-without-fc6-8": extra = [.. extra, "--fc6_8", "0", "--train_batchnorm", "1"]; break;
            case "fc6-8-not-0-or-1": extra = [.. extra, "--fc6_8", "2"]; break;
        }
        var (code, stdout, err) = Run(["eval-voc", "--vocdir", voc, "--nit", "1", "--exp", exp, "--device", "cpu", .. extra]);
        CliErrors.AssertOneLine(code, stdout, err, expected);
        Assert.False(File.Exists(Path.Combine(exp, "settings.json")));
    }
}
