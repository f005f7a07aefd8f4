using System.Security.Cryptography;
using DeepCluster.Core.Export;
using DeepCluster.Core.Models;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.Export;

/// <summary>
/// `deepcluster models download` against a local HTTP server (<see cref="LocalFileServer"/>): a whole download, a
/// transfer broken off and resumed with a Range request, a checksum that does not match, and bad flags.
/// </summary>
[Collection("Console")]
public class ModelsDownloadTests
{
    const string Checkpoint = "/alexnet/checkpoint.pth.tar";

    static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    static string[] Download(LocalFileServer server, TempDir dir, params string[] extra) =>
        ["models", "download", "--arch", "alexnet", "--format", "pytorch", "--dir", dir.File("models"), "--base-url", server.BaseUrl, .. extra];

    [Fact]
    public void DownloadsTheFileWhole()
    {
        using var dir = new TempDir();
        using var server = new LocalFileServer();
        var body = Bytes(3_000_000, 1);
        server.Files[Checkpoint] = body;
        var (code, stdout, err) = CliInProcess.Run(Download(server, dir));
        Assert.True(code == 0, err + stdout);
        var final = Path.Combine(dir.File("models"), "alexnet", "checkpoint.pth.tar");
        Assert.Equal(body, File.ReadAllBytes(final));
        Assert.False(File.Exists(final + ".part"));
        Assert.Contains(Sha(body), stdout);                     // printed, so it can be recorded
        Assert.Contains("no known SHA-256", stdout);            // and honest that nothing was verified but the size
        Assert.Equal([(Checkpoint, (string?)null)], server.Requests);

        // A second run finds it there and downloads nothing.
        var (again, againOut, againErr) = CliInProcess.Run(Download(server, dir));
        Assert.True(again == 0, againErr);
        Assert.Contains("already there", againOut);
        Assert.Single(server.Requests);

        var (listed, listOut, _) = CliInProcess.Run("models", "list", "--dir", dir.File("models"));
        Assert.Equal(0, listed);
        Assert.Contains($"{final}: present (3000000 bytes)", listOut);
        Assert.Contains("vgg16/model.caffemodel", listOut);
    }

    [Fact]
    public void BothCaffeFilesGoUnderTheArchitecture_FromTheEnvironment()
    {
        using var dir = new TempDir();
        using var server = new LocalFileServer();
        server.Files["/vgg16/model.caffemodel"] = Bytes(100_000, 2);
        server.Files["/vgg16/model.prototxt"] = "name: \"vgg16\"\n"u8.ToArray();
        var (oldDir, oldUrl) = (Environment.GetEnvironmentVariable(ReleasedModels.FolderVariable), Environment.GetEnvironmentVariable(ReleasedModels.BaseUrlVariable));
        Environment.SetEnvironmentVariable(ReleasedModels.FolderVariable, dir.File("env-models"));
        Environment.SetEnvironmentVariable(ReleasedModels.BaseUrlVariable, server.BaseUrl + "/");
        try
        {
            var (code, stdout, err) = CliInProcess.Run("models", "download", "--arch", "vgg16", "--format", "caffe");
            Assert.True(code == 0, err + stdout);
            Assert.Equal(server.Files["/vgg16/model.caffemodel"], File.ReadAllBytes(Path.Combine(dir.File("env-models"), "vgg16", "model.caffemodel")));
            Assert.Equal(server.Files["/vgg16/model.prototxt"], File.ReadAllBytes(Path.Combine(dir.File("env-models"), "vgg16", "model.prototxt")));
            Assert.Equal(["/vgg16/model.caffemodel", "/vgg16/model.prototxt"], server.Requests.Select(r => r.Path));
        }
        finally
        {
            Environment.SetEnvironmentVariable(ReleasedModels.FolderVariable, oldDir);
            Environment.SetEnvironmentVariable(ReleasedModels.BaseUrlVariable, oldUrl);
        }
    }

    [Fact]
    public void AnInterruptedTransferResumesWithARangeRequest()
    {
        using var dir = new TempDir();
        using var server = new LocalFileServer();
        var body = Bytes(4_000_000, 3);
        server.Files[Checkpoint] = body;
        server.DropAfter = 1_500_000;
        var final = Path.Combine(dir.File("models"), "alexnet", "checkpoint.pth.tar");

        var (code, stdout, err) = CliInProcess.Run(Download(server, dir));
        Assert.True(code != 0, stdout);
        Assert.Contains("run the command again to resume", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(final));                                  // never a partial file at the final path
        var kept = new FileInfo(final + ".part").Length;
        Assert.InRange(kept, 1, 1_500_000);
        Assert.Equal(body.AsSpan(0, (int)kept).ToArray(), File.ReadAllBytes(final + ".part"));

        var (code2, stdout2, err2) = CliInProcess.Run(Download(server, dir, "--checksums", Checksums(dir, Sha(body))));
        Assert.True(code2 == 0, err2 + stdout2);
        Assert.Equal($"bytes={kept}-", server.Requests[^1].Range);           // asked only for the rest
        Assert.Equal(body, File.ReadAllBytes(final));
        Assert.False(File.Exists(final + ".part"));
        Assert.Contains($"resumed at byte {kept}", stdout2);
        Assert.Contains("SHA-256 verified", stdout2);
    }

    [Fact]
    public void AServerIgnoringTheRangeStartsOver()
    {
        using var dir = new TempDir();
        using var server = new LocalFileServer { IgnoreRange = true };
        var body = Bytes(2_000_000, 4);
        server.Files[Checkpoint] = body;
        server.DropAfter = 700_000;
        var final = Path.Combine(dir.File("models"), "alexnet", "checkpoint.pth.tar");
        Assert.NotEqual(0, CliInProcess.Run(Download(server, dir)).Code);
        var (code, _, err) = CliInProcess.Run(Download(server, dir));
        Assert.True(code == 0, err);
        Assert.NotNull(server.Requests[^1].Range);                           // asked for the rest, got the whole file: kept it once
        Assert.Equal(body, File.ReadAllBytes(final));
    }

    [Fact]
    public void ABadChecksumFailsAndLeavesNothing()
    {
        using var dir = new TempDir();
        using var server = new LocalFileServer();
        var body = Bytes(1_000_000, 5);
        server.Files[Checkpoint] = body;
        var wrong = Sha(Bytes(10, 6));
        var (code, stdout, err) = CliInProcess.Run(Download(server, dir, "--checksums", Checksums(dir, wrong)));
        CliErrors.AssertOneLine(code, stdout, err, $"SHA-256 {Sha(body)} does not match the expected {wrong}");
        var final = Path.Combine(dir.File("models"), "alexnet", "checkpoint.pth.tar");
        Assert.False(File.Exists(final), stdout);
        Assert.False(File.Exists(final + ".part"));                          // the next run starts over
    }

    [Fact]
    public async Task ADirectDownloadChecksTheGivenChecksumAndSize()
    {
        using var dir = new TempDir();
        using var server = new LocalFileServer();
        var body = Bytes(50_000, 7);
        server.Files["/f.bin"] = body;
        using var http = new HttpClient();
        var download = new FileDownload(http);
        var url = new Uri(server.BaseUrl + "/f.bin");
        var sizeError = await Assert.ThrowsAsync<InvalidDataException>(() => download.RunAsync(url, dir.File("a/f.bin"), null, 49_999));
        Assert.Contains("50000 bytes where the released file has 49999", sizeError.Message);
        Assert.False(File.Exists(dir.File("a/f.bin")));
        var ok = await download.RunAsync(url, dir.File("a/f.bin"), Sha(body).ToUpperInvariant(), 50_000);
        Assert.True(ok.ChecksumVerified);
        Assert.Equal(body, File.ReadAllBytes(dir.File("a/f.bin")));
        // A finished download the server no longer holds: already there, checked, no request.
        var before = server.Requests.Count;
        Assert.True((await download.RunAsync(url, dir.File("a/f.bin"), Sha(body), 50_000)).AlreadyThere);
        Assert.Equal(before, server.Requests.Count);
    }

    [Theory]
    [InlineData("--base-url", "ftp://example.org/x", "--base-url ftp://example.org/x: not an http:// or https:// URL")]
    [InlineData("--checksums", "missing.sha256", "--checksums")]
    [InlineData("--checksums", "bad", "line 1 is not 'SHA256  PATH'")]
    public void BadFlagsAreOneLine(string flag, string value, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("bad"), "not-a-hash  alexnet/checkpoint.pth.tar\n");
        if (flag == "--checksums") value = dir.File(value);
        var (code, stdout, err) = CliInProcess.Run("models", "download", "--dir", dir.File("models"), flag, value);
        CliErrors.AssertOneLine(code, stdout, err, expected);
    }

    [Fact]
    public void AMissingFileOnTheServerIsAClearError()
    {
        using var dir = new TempDir();
        using var server = new LocalFileServer();
        var (code, _, err) = CliInProcess.Run(Download(server, dir));
        Assert.Equal(2, code);
        Assert.Contains("404", err);
        Assert.Contains("/alexnet/checkpoint.pth.tar", err);
    }

    [Fact]
    public void TheCatalogueListsDownloadModelShsFiles()
    {
        // A checksum, where one is filled in, is a SHA-256 in lower-case hex (the published project lists none).
        Assert.All(ReleasedModels.Files, f => Assert.True(f.Sha256 is null || (f.Sha256.Length == 64 && f.Sha256 == f.Sha256.ToLowerInvariant())));
        Assert.Equal(6, ReleasedModels.Files.Count);
        Assert.Equal("https://dl.fbaipublicfiles.com/deepcluster/vgg16/model.caffemodel",
                     ReleasedModels.Select("vgg16", "caffe")[0].UrlUnder(ReleasedModels.DefaultBaseUrl).ToString());
    }

    static string Checksums(TempDir dir, string sha)
    {
        var path = dir.File($"sums-{Guid.NewGuid():N}.sha256");
        File.WriteAllText(path, $"# trusted\n{sha}  alexnet/checkpoint.pth.tar\n");
        return path;
    }
}
