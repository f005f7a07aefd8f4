using System.Diagnostics;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// Every bad input to `deepcluster train` is one line on stderr, "deepcluster: …", naming the flag, file or key, and
/// exit code 2 — before anything is written — and a pipeline failure ends the run the same way within seconds.
/// </summary>
[Collection("console")]
public class TrainInputErrorTests
{
    [Theory]
    [InlineData("--arch nosuch", "--arch: Argument 'nosuch' not recognized. Must be one of: 'alexnet'")]
    [InlineData("--batch abc", "--batch abc: expected a whole number (see 'deepcluster train --help')")]
    [InlineData("--lr fast", "--lr fast: expected a number")]
    [InlineData("--bogus", "Unrecognized command or argument '--bogus'")]
    [InlineData("--clustering Spectral", "--clustering: Argument 'Spectral' not recognized")]
    [InlineData("--split foo", "--split: Argument 'foo' not recognized. Must be one of: 'train', 't10k'")]
    [InlineData("--precision fp16", "--precision: Argument 'fp16' not recognized. Must be one of: 'fp32', 'bf16'")]
    [InlineData("--momentum -5", "--momentum -5: must be from 0")]
    [InlineData("--momentum 1", "--momentum 1: must be from 0")]
    [InlineData("--wd 5", "--wd 5: the weight decay is 10^wd")]
    [InlineData("--lr NaN", "--lr NaN: must be a positive number")]
    [InlineData("--reassign 0", "--reassign 0: must be a positive number")]
    [InlineData("--workers -1", "--workers -1: must be from 0")]
    [InlineData("--k 0", "--nmb_cluster 0: must be positive")]
    [InlineData("--epochs 3 --start_epoch 3", "--epochs 3: must be more than --start_epoch 3")]
    public void ABadFlagIsOneLineAndExit2AndWritesNothing(string flags, string expected)
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var (code, output, err) = TrainCliTests.Run(["train", CliProcess.FashionMnist, "--exp", exp, .. flags.Split(' ')]);
        CliErrors.AssertOneLine(code, output, err, expected);
        Assert.False(Directory.Exists(exp));
    }

    [Fact]
    public void AnUnknownCommandIsOneLine()
    {
        var (code, output, err) = TrainCliTests.Run("frobnicate");
        CliErrors.AssertOneLine(code, output, err, "(see 'deepcluster --help')");
    }

    [Fact]
    public void ExpPointingAtAFileNamesExp()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("file"), "x");
        var (code, output, err) = TrainCliTests.Run(TrainCliTests.Small(dir.File("file")));
        CliErrors.AssertOneLine(code, output, err, "--exp");
        (code, output, err) = TrainCliTests.Run(TrainCliTests.Small(Path.Combine(dir.File("file"), "exp")));
        CliErrors.AssertOneLine(code, output, err, "--exp");
        Assert.Equal("x", File.ReadAllText(dir.File("file")));
    }

    [Fact]
    public void ASplitTheIdxFolderLacksNamesSplit()
    {
        using var dir = new TempDir();
        var data = dir.File("data");
        Directory.CreateDirectory(data);
        File.Copy(Directory.GetFiles(CliProcess.FashionMnist, "train-images-idx3-ubyte*").First(),
                  Path.Combine(data, Path.GetFileName(Directory.GetFiles(CliProcess.FashionMnist, "train-images-idx3-ubyte*").First())));
        var exp = dir.File("exp");
        var (code, output, err) = TrainCliTests.Run("train", data, "--split", "t10k", "--exp", exp);
        CliErrors.AssertOneLine(code, output, err, "--split t10k");
        Assert.Contains("t10k-images-idx3-ubyte", err);
        Assert.False(Directory.Exists(exp));
    }

    [Theory]
    [InlineData("syntax", "deepcluster {\n  loader {\n    prefetch-batches =\n  }\n}\n", "syntax.conf:3: key 'prefetch-batches' has no value")]
    [InlineData("unclosed", "deepcluster {\n  loader { pull-window = 2 }\n", "unclosed.conf:3: '{' opened at line 1 is never closed")]
    [InlineData("array", "akka.loggers = [\"x\", \"y\" }\n", "array.conf:1: unexpected '}' in the array opened at line 1")]
    [InlineData("unknown", "deepcluster.loader.prefech-batches = 4\n", "unknown key deepcluster.loader.prefech-batches")]
    [InlineData("type", "deepcluster.loader.pull-window = many\n", "deepcluster.loader.pull-window = many: expected a whole number")]
    [InlineData("range", "deepcluster.data.max-image-pixels = 0\n", "deepcluster.data.max-image-pixels = 0: expected a whole number")]
    [InlineData("shape", "deepcluster.loader = 3\n", "deepcluster.loader must be an object")]
    [InlineData("dispatcher", "deepcluster.compute-dispatcher.type = Bogus\n", "deepcluster.compute-dispatcher.type = Bogus")]
    public void ABadConfigurationNamesTheFileAndTheKey(string name, string text, string expected)
    {
        using var dir = new TempDir();
        var conf = dir.File(name + ".conf");
        File.WriteAllText(conf, text);
        var exp = dir.File("exp");
        var (code, output, err) = TrainCliTests.Run(TrainCliTests.Small(exp, "--config", conf));
        CliErrors.AssertOneLine(code, output, err, expected);
        Assert.Contains(conf, err);
        Assert.False(Directory.Exists(exp));
    }

    [Fact]
    public void AConfigurationOverridesOnlyWhatItSetsAndTheRunSaysWhatItIsDoing()
    {
        // Before, a file without deepcluster.compute-dispatcher killed the run (exit 134, a stack trace, a stale .lock).
        using var dir = new TempDir();
        var conf = dir.File("mine.conf");
        File.WriteAllText(conf, "akka.loglevel = ERROR\ndeepcluster.loader.pull-window = 3\n");
        var exp = dir.File("exp");
        var (code, output, err) = TrainCliTests.Run(TrainCliTests.Small(exp, "--config", conf).Select(a => a == "2" ? "1" : a).ToArray());
        Assert.True(code == 0, output + err);
        Assert.Contains("loading libtorch…", output);
        Assert.Contains($"opening the journal in {exp}…", output);
        Assert.Contains("epoch 0 clustering  PCA-whitening 512×", output);   // the PCA is announced before k-means
        Assert.True(output.IndexOf("PCA-whitening", StringComparison.Ordinal) < output.IndexOf("objective", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("trainer", "TrainEpoch")]
    [InlineData("data-loader", "OpenStream")]
    public void APipelineFaultEndsTheCommandWithOneLineAndExit2WithinSeconds(string actor, string message)
    {
        using var dir = new TempDir();
        var clock = Stopwatch.StartNew();
        var run = Task.Run(() => TrainCliTests.Run(SupervisionTests.Inject(actor, message), TrainCliTests.Small(dir.File("exp"))));
        Assert.True(run.Wait(TimeSpan.FromSeconds(90)), $"the command hung after the {actor} failed");
        var (code, output, err) = run.Result;
        CliErrors.AssertOneLine(code, output, err, $"the {actor} actor failed: InvalidOperationException: injected fault on {message}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }
}
