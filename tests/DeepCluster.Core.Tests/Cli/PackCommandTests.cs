using DeepCluster.Core.Data;
using DeepCluster.Core.Tests.Data;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.Cli;

/// <summary>`deepcluster pack DIR OUT` end to end, in-process: what it writes, and every bad input as one line and exit 2.</summary>
[Collection("Console")]
public class PackCommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
        => CliInProcess.Run(args);

    static void AssertOneLineError((int Code, string Out, string Err) r, string expected)
        => CliErrors.AssertOneLine(r.Code, r.Out, r.Err, expected);

    [Fact]
    public void PacksAFolderAndRefusesToOverwriteWithoutForce()
    {
        using var dir = new TempDir();
        var root = PackedDatasetTests.MixedFolder(dir);
        var outPath = dir.File("out/train.dcpack");   // the folder is made
        var r = Run("pack", root, outPath, "--max-side", "128", "--workers", "2");
        Assert.True(r.Code == 0, r.Out + r.Err);
        Assert.Contains("packed 8 images of 3 classes", r.Out);
        using (var pack = PackedDataset.Open(outPath))
        {
            Assert.Equal(8, pack.Count);
            Assert.Equal(128, pack.MaxSide);
            Assert.Equal(new ImageFolder(root).Labels, pack.Labels);
            Assert.Equal(root, pack.Metadata.Source);
        }
        var before = File.ReadAllBytes(outPath);

        AssertOneLineError(Run("pack", root, outPath), $"{outPath}: already exists; give --force to replace it.");
        Assert.Equal(before, File.ReadAllBytes(outPath));

        r = Run("pack", root, outPath, "--force", "--encoding", "jpeg", "--quality", "80");
        Assert.True(r.Code == 0, r.Out + r.Err);
        Assert.Contains("JPEG quality 80", r.Out);
        using var jpeg = PackedDataset.Open(outPath);
        Assert.Equal(PackEncoding.Jpeg, jpeg.Encoding);
        Assert.Equal(256, jpeg.MaxSide);
    }

    [Fact]
    public void BadInputIsOneLineAndExit2AndWritesNothing()
    {
        using var dir = new TempDir();
        var root = PackedDatasetTests.MixedFolder(dir);
        var outPath = dir.File("p.dcpack");
        AssertOneLineError(Run("pack", dir.File("nosuch"), outPath), $"{dir.File("nosuch")}: image folder not found");
        AssertOneLineError(Run("pack", root, outPath, "--max-side", "0"), "--max-side 0: must be a positive number of pixels");
        AssertOneLineError(Run("pack", root, outPath, "--max-side", "big"), "--max-side big: expected a whole number");
        AssertOneLineError(Run("pack", root, outPath, "--encoding", "webp"), "--encoding: Argument 'webp' not recognized");
        AssertOneLineError(Run("pack", root, outPath, "--encoding", "jpeg", "--quality", "101"), "--quality 101: must be from 1 to 100");
        AssertOneLineError(Run("pack", root, outPath, "--quality", "50"), "--quality 50: only with --encoding jpeg");
        AssertOneLineError(Run("pack", root, dir.Path), $"{dir.Path}: is a folder");
        AssertOneLineError(Run("pack", root), "Required argument missing for command: 'pack'");
        File.WriteAllBytes(dir.File("train-images-idx3-ubyte"), []);
        AssertOneLineError(Run("pack", dir.Path, outPath), "an MNIST/Fashion-MNIST IDX folder");
        File.Delete(dir.File("train-images-idx3-ubyte"));
        File.WriteAllBytes(Path.Combine(root, "bird", "bad.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 1, 2]);
        AssertOneLineError(Run("pack", root, outPath), Path.Combine(root, "bird", "bad.jpg"));
        Assert.Equal(["images"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));   // nothing written, no temporary file

        var r = Run("pack", root, outPath, "--skip-bad-files");
        Assert.True(r.Code == 0, r.Out + r.Err);
        Assert.Contains("warning: skipped 1 unreadable image file (--skip-bad-files): bird/bad.jpg", r.Err);
    }

    [Fact]
    public void TrainNamesAFileThatIsNotAPack()
    {
        using var dir = new TempDir();
        var notPack = dir.File("data.bin");
        File.WriteAllText(notPack, "hello");
        AssertOneLineError(Run("train", notPack, "--exp", dir.File("exp"), "--device", "cpu"), $"{notPack}: not a deepcluster pack");
        Assert.False(Directory.Exists(dir.File("exp")));
    }
}
