using System.Text.Json;
using DeepCluster.Core.IO;
using DeepCluster.Core.Metrics;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.Evaluation.Retrieval;

[Collection("Console")]
public class EvalRetrievalCommandTests
{
    public EvalRetrievalCommandTests() => TorchRuntime.EnsureLoaded();

    static JsonElement Results(string exp) => JsonDocument.Parse(File.ReadAllText(Path.Combine(exp, "results.json"))).RootElement;

    static string[] Args(string data, string exp, params string[] extra) =>
        ["eval-retrieval", "--dataset", data, "--imdim", "64", "--exp", exp, "--device", "cpu", .. extra];

    static HashSet<string> Lines(string file) => File.ReadAllLines(file).Where(l => l.Length > 0).ToHashSet();

    /// <summary>
    /// The relevant images are noisy copies of the query's image, so a randomly initialised network already ranks them
    /// first: the mAP is high. The PCA is learned on the other dataset; results, summary and rankings are written.
    /// </summary>
    [Fact]
    public void NearCopiesOfTheQueryAreRetrievedWithHighMap()
    {
        using var dir = new TempDir();
        RetrievalFixture.Build(dir.File("oxford"), seed: 1);
        RetrievalFixture.Build(dir.File("paris"), seed: 2);
        var (code, stdout, err) = CliInProcess.Run(Args(dir.File("oxford"), dir.File("exp"), "--other", dir.File("paris"), "--arch", "alexnet_small"));
        Assert.True(code == 0, err + stdout);
        var r = Results(dir.File("exp"));
        Assert.True(r.GetProperty("map").GetDouble() > 0.9, stdout);
        Assert.Equal(3, r.GetProperty("queries").GetInt32());
        Assert.Equal(15, r.GetProperty("images").GetInt32());
        Assert.Equal(64, r.GetProperty("descriptor_dim").GetInt32());    // min(512, the 64 channels of alexnet_small's conv5)
        Assert.Equal(15, r.GetProperty("pca_images").GetInt32());
        var aps = r.GetProperty("ap").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
        Assert.Equal(["b0_1", "b1_1", "b2_1"], aps.Keys.Order());
        Assert.Equal(aps.Values.Average(), r.GetProperty("map").GetDouble(), 12);
        Assert.StartsWith("alexnet_small oxford retrieval (R-MAC, L 3, imdim 64, PCA-whitened to 64 on paris): mAP",
                          File.ReadAllText(dir.File("exp/summary.txt")));
        Assert.Contains("mAP", stdout);
        Assert.Equal(15, File.ReadAllLines(dir.File("exp/ranks/b1_1.rnk")).Length);
    }

    /// <summary>
    /// The exact duplicate of a query's image ranks first (same descriptor, lower index); listed as junk it is skipped:
    /// the AP equals Oxford's AP of the written ranking with junk ignored, and is higher than with the duplicate counted as a miss.
    /// Without <c>--other</c> the descriptors are not whitened (said in the log).
    /// </summary>
    [Fact]
    public void JunkImagesAreIgnoredInTheAp()
    {
        using var dir = new TempDir();
        var data = dir.File("oxford");
        RetrievalFixture.Build(data, seed: 1);
        var gt = Path.Combine(data, "gt_files");
        var dup = RetrievalFixture.Image(0, 0);
        File.WriteAllLines(Path.Combine(gt, "b0_1_good.txt"), [RetrievalFixture.Image(0, 1), RetrievalFixture.Image(0, 2)]);
        File.WriteAllLines(Path.Combine(gt, "b0_1_junk.txt"), [dup]);
        var (code, stdout, err) = CliInProcess.Run(Args(data, dir.File("exp"), "--arch", "alexnet_small"));
        Assert.True(code == 0, err + stdout);
        Assert.Contains("no --other dataset", stdout);
        var ranking = File.ReadAllLines(dir.File("exp/ranks/b0_1.rnk"));
        Assert.Equal(dup, ranking[0]);
        var relevant = Lines(Path.Combine(gt, "b0_1_good.txt")).Union(Lines(Path.Combine(gt, "b0_1_ok.txt"))).ToHashSet();
        var ap = Results(dir.File("exp")).GetProperty("ap").GetProperty("b0_1").GetDouble();
        Assert.Equal(RetrievalAveragePrecision.Compute(ranking, relevant, new HashSet<string> { dup }), ap, 12);
        Assert.True(ap > RetrievalAveragePrecision.Compute(ranking, relevant, new HashSet<string>()) + 0.1);
        Assert.Contains("no PCA-whitening", File.ReadAllText(dir.File("exp/summary.txt")));
    }

    /// <summary>
    /// <c>jpg.dcpack</c>, packed as the README says with a <c>--max-side</c> above every image's shorter side (nothing
    /// resized; raw RGB), stands for <c>jpg/</c> in the searched and the <c>--other</c> dataset: the same APs, mAP and
    /// rankings, to the digit.
    /// </summary>
    [Fact]
    public void PacksOfJpgGiveTheNumbersOfTheFolders()
    {
        using var dir = new TempDir();
        foreach (var (name, seed) in new[] { ("oxford", 1), ("paris", 2) })
        {
            RetrievalFixture.Build(dir.File(name), seed);
            var packed = dir.File(name + "-packed");
            CopyFolder(Path.Combine(dir.File(name), "gt_files"), Path.Combine(packed, "gt_files"));
            var pack = EvalFixtures.PackFlatFolder(Path.Combine(dir.File(name), "jpg"), Path.Combine(packed, "jpg.dcpack"), "--max-side", "4096");
            Assert.True(pack.Code == 0, pack.Err + pack.Out);
        }
        var folders = CliInProcess.Run(Args(dir.File("oxford"), dir.File("exp-folders"), "--other", dir.File("paris"), "--arch", "alexnet_small"));
        Assert.True(folders.Code == 0, folders.Err + folders.Out);
        var (code, stdout, err) = CliInProcess.Run(Args(dir.File("oxford-packed"), dir.File("exp-packs"), "--other", dir.File("paris-packed"), "--arch", "alexnet_small"));
        Assert.True(code == 0, err + stdout);
        Assert.Contains("15 images from the pack", stdout);
        foreach (var key in new[] { "map", "ap", "images", "pca_images", "pca_energy" })
            Assert.Equal(Results(dir.File("exp-folders")).GetProperty(key).ToString(), Results(dir.File("exp-packs")).GetProperty(key).ToString());
        Assert.Equal(File.ReadAllLines(dir.File("exp-folders/ranks/b2_1.rnk")), File.ReadAllLines(dir.File("exp-packs/ranks/b2_1.rnk")));
    }

    /// <summary>
    /// A pack that resized the images (here to a shorter side of 40 from 60) cannot give the published descriptors — the
    /// query boxes are in the original's pixels and the resize to <c>--imdim</c> starts from the original — so it is
    /// refused in one line that says why and how to pack instead; exit 2. So is a pack whose shorter sides reach its
    /// <c>--max-side</c> (60 of 60: maybe resized).
    /// </summary>
    [Theory]
    [InlineData("40")]
    [InlineData("60")]
    public void APackThatMayHaveResizedTheImagesIsRefused(string maxSide)
    {
        using var dir = new TempDir();
        var data = dir.File("oxford");
        RetrievalFixture.Build(data, seed: 1);
        var pack = EvalFixtures.PackFlatFolder(Path.Combine(data, "jpg"), Path.Combine(data, "jpg.dcpack"), "--max-side", maxSide);
        Assert.True(pack.Code == 0, pack.Err + pack.Out);
        Directory.Delete(Path.Combine(data, "jpg"), true);
        var (code, stdout, err) = CliInProcess.Run(Args(data, dir.File("exp"), "--arch", "alexnet_small"));
        var line = CliErrors.AssertOneLine(code, stdout, err, $"jpg.dcpack: packed with --max-side {maxSide}, which may have resized 15 of its images");
        Assert.Contains("the query boxes are in the original image's coordinates", line);
        Assert.Contains("with a --max-side above every image's shorter side", line);
        Assert.False(Directory.Exists(dir.File("exp")));
    }

    /// <summary>
    /// The same command on a finished run's folder scores again from the saved descriptors (the same APs, nothing
    /// described again); other settings on it are one line naming what differs, exit 2.
    /// </summary>
    [Fact]
    public void AFinishedRunRescoresFromItsDescriptorsAndOtherSettingsAreRefused()
    {
        using var dir = new TempDir();
        RetrievalFixture.Build(dir.File("oxford"), seed: 1);
        string[] flags = ["--arch", "alexnet_small", "--checkpoint_every", "4"];
        var first = CliInProcess.Run(Args(dir.File("oxford"), dir.File("exp"), flags));
        Assert.True(first.Code == 0, first.Err + first.Out);
        var map = Results(dir.File("exp")).GetProperty("ap").ToString();
        var again = CliInProcess.Run(Args(dir.File("oxford"), dir.File("exp"), flags));
        Assert.True(again.Code == 0, again.Err + again.Out);
        Assert.Contains("resuming: the descriptors of 15/15 database oxford", again.Out);
        Assert.Equal(map, Results(dir.File("exp")).GetProperty("ap").ToString());
        var other = CliInProcess.Run(["eval-retrieval", "--dataset", dir.File("oxford"), "--imdim", "48", "--exp", dir.File("exp"), "--device", "cpu", .. flags]);
        Assert.Equal(2, other.Code);
        Assert.Contains("holds a retrieval evaluation with other settings (im_dim 64, now 48)", other.Err);
        Assert.Single(other.Err.Trim().Split('\n'));
    }

    static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }

    /// <summary>A released-format model (legacy serialization, <c>features.module.*</c> keys, Sobel, no optimizer) is evaluated.</summary>
    [Fact]
    public void ReleasedModelIsEvaluated()
    {
        using var dir = new TempDir();
        RetrievalFixture.Build(dir.File("oxford"), seed: 3);
        PythonPeer.Run(PythonModels.Preamble + """
            torch.manual_seed(4)
            m = ARCHS['alexnet_small'](sobel=True, out=7)
            m.features = torch.nn.DataParallel(m.features)
            torch.save({'epoch': 100, 'arch': 'alexnet_small', 'state_dict': m.state_dict()}, sys.argv[1] + '/released.pth',
                       _use_new_zipfile_serialization=False)
            """, dir.Path);
        var (code, stdout, err) = CliInProcess.Run(Args(dir.File("oxford"), dir.File("exp"), "--model", dir.File("released.pth")));
        Assert.True(code == 0, err + stdout);
        Assert.Equal("alexnet_small", Results(dir.File("exp")).GetProperty("arch").GetString());
        Assert.True(Results(dir.File("exp")).GetProperty("map").GetDouble() > 0.5, stdout);
    }

    [Theory]
    [InlineData("no-dataset", "no such folder")]
    [InlineData("no-gt-files", "no gt_files folder")]
    [InlineData("no-jpg", "no jpg folder")]
    [InlineData("query-image-missing", "b1_1_query.txt: query image b1_000001 is not in the database")]
    [InlineData("bad-box", "b2_1_query.txt: bad box 50 4 10 40")]
    [InlineData("box-outside", "b2_1_query.txt: box 500 4 600 40 lies outside the 80×60 image")]
    [InlineData("no-junk-file", "b0_1_junk.txt: no such file")]
    [InlineData("other-lacks-layout", "--other")]
    [InlineData("checkpoint-every-0", "--checkpoint_every 0: must be at least 1")]
    [InlineData("wrong-arch", "a model of architecture 'alexnet_small', but --arch says 'vgg16'")]
    [InlineData("weights-of-another-arch", "its weights do not fit alexnet")]
    public void BadInputIsOneClearLineAndExitCode2(string kind, string expected)
    {
        using var dir = new TempDir();
        var data = dir.File("oxford");
        var gt = Path.Combine(data, "gt_files");
        if (kind != "no-dataset") RetrievalFixture.Build(data, seed: 1);
        string[] extra = ["--arch", "alexnet_small"];
        switch (kind)
        {
            case "no-gt-files": Directory.Delete(gt, true); break;
            case "no-jpg": Directory.Delete(Path.Combine(data, "jpg"), true); break;
            case "query-image-missing":
                foreach (var k in new[] { 0, 1 }) File.Delete(Path.Combine(data, "jpg", RetrievalFixture.Image(1, k) + ".jpg"));
                break;
            case "bad-box": File.WriteAllText(Path.Combine(gt, "b2_1_query.txt"), "oxc1_b2_000001 50 4 10 40\n"); break;
            case "box-outside": File.WriteAllText(Path.Combine(gt, "b2_1_query.txt"), "oxc1_b2_000001 500 4 600 40\n"); break;
            case "no-junk-file": File.Delete(Path.Combine(gt, "b0_1_junk.txt")); break;
            case "checkpoint-every-0": extra = [.. extra, "--checkpoint_every", "0"]; break;
            case "other-lacks-layout": Directory.CreateDirectory(dir.File("paris")); extra = [.. extra, "--other", dir.File("paris")]; break;
            case "wrong-arch" or "weights-of-another-arch":
                using (var m = ModelFactory.Create("alexnet_small", sobel: false, numClasses: 0))
                {
                    var sd = m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
                    Checkpoint.Save(dir.File("m.pth.tar"), 3, kind == "wrong-arch" ? "alexnet_small" : "alexnet", sd, null);
                }
                extra = kind == "wrong-arch" ? ["--model", dir.File("m.pth.tar"), "--arch", "vgg16"] : ["--model", dir.File("m.pth.tar")];
                break;
        }
        var (code, stdout, err) = CliInProcess.Run(Args(data, dir.File("exp"), extra));
        CliErrors.AssertOneLine(code, stdout, err, expected);
        Assert.False(File.Exists(Path.Combine(dir.File("exp"), "results.json")));
    }
}
