using DeepCluster.Core.Experiment;
using DeepCluster.Core.Native;
using DeepCluster.Core.Training;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// `deepcluster train --precision bf16`: the whole pipeline (feature pass and training) runs in bf16 on this CPU and
/// saves float32; the precision is part of the experiment, so continuing it with another is refused in one line; a CPU
/// without native bf16 refuses it in one line before anything is written.
/// </summary>
[Collection("console")]
public class PrecisionCliTests
{
    [Fact]
    public void ABf16RunSavesFloat32AndContinuingItWithAnotherPrecisionIsRefused()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var (code, output, err) = TrainCliTests.Run(TrainCliTests.Small(exp, "--precision", "bf16"));
        Assert.True(code == 0, output + err);
        var folder = new ExperimentFolder(exp);
        Assert.Equal("bf16", folder.ReadConfig()!.Precision);
        var metrics = folder.ReadMetrics();
        Assert.Equal(new[] { 0, 1 }, metrics.Select(m => m.Epoch));
        Assert.All(metrics, m => Assert.True(double.IsFinite(m.ConvnetLoss) && m.ConvnetLoss > 0, $"loss {m.ConvnetLoss}"));
        using (var model = ModelFiles.LoadModel(folder.CheckpointPath, "alexnet_small", sobel: true, CPU))
            Assert.All(model.state_dict().Values.Where(t => t.is_floating_point()), t => Assert.Equal(ScalarType.Float32, t.dtype));

        // The same folder in fp32 (the default): one line naming --precision with both values; nothing changes.
        var before = FinishedExperiment.Snapshot(exp);
        (code, output, err) = TrainCliTests.Run(TrainCliTests.Small(exp));
        CliErrors.AssertOneLine(code, output, err, "--precision bf16 (folder) vs fp32 (now)");
        FinishedExperiment.AssertUnchanged(before, exp);
    }

    [Fact]
    public void ACpuWithoutNativeBf16RefusesBf16InOneLineAndWritesNothing()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        Bf16Support.PretendCpuLacksBf16 = true;
        try
        {
            var (code, output, err) = TrainCliTests.Run(TrainCliTests.Small(exp, "--precision", "bf16"));
            CliErrors.AssertOneLine(code, output, err, "--precision bf16: this CPU has no native bf16 arithmetic");
            Assert.False(Directory.Exists(exp));
        }
        finally { Bf16Support.PretendCpuLacksBf16 = false; }
    }
}
