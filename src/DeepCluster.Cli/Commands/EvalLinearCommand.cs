using System.CommandLine;
using DeepCluster.Core.Evaluation;
using DeepCluster.Core.Native;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster eval-linear`: the published <c>eval_linear.py</c> (same flags and defaults): a linear classifier on
/// the pooled, frozen activations of one conv layer, trained on the dataset's training split and tested on its test
/// split; the same command continues a killed run from its <c>--exp</c> folder.
/// </summary>
public static class EvalLinearCommand
{
    static readonly LinearEvalSettings Defaults = new(null, "", "", 1);

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "path to dataset: an ImageFolder root with train/ and val/, or a folder of IDX files (train → t10k)", Required = true };
        var model = new Option<string?>("--model") { Description = "path to model: a checkpoint of `deepcluster train` or a released DeepCluster model, PyTorch or Caffe (.caffemodel) (default: a randomly initialised --arch)" };
        var conv = new Option<int>("--conv") { Description = "on top of which convolutional layer train logistic regression", Required = true };
        conv.AcceptOnlyFromAmong("1", "2", "3", "4", "5");
        var tencrops = new Option<bool>("--tencrops") { Description = "validation accuracy averaged over 10 crops" };
        var exp = new Option<string>("--exp") { Description = "exp folder: logs, metrics, checkpoints and the best classifier; a killed run continues from it", Required = true };
        var workers = new Flag<int>("--workers", "number of data loading workers", Defaults.Workers);
        var epochs = new Flag<int>("--epochs", "number of total epochs to run", Defaults.Epochs);
        var batch = new Flag<int>("--batch_size", "mini-batch size", Defaults.BatchSize);
        var lr = new Flag<double>("--lr", "learning rate", Defaults.Lr);
        var momentum = new Flag<double>("--momentum", "momentum", Defaults.Momentum);
        var wd = new Flag<double>("--weight_decay", "weight decay pow", Defaults.WeightDecayPower, "--wd");
        var seed = new Flag<int>("--seed", "random seed", (int)Defaults.Seed);
        var verbose = new Option<bool>("--verbose") { Description = "chatty" };
        var arch = new Option<string?>("--arch", "-a") { Description = "architecture of the model (default: the one the --model file names)" };
        arch.AcceptOnlyFromAmong(DeepCluster.Core.Models.ModelFactory.Architectures);
        var sobel = new Option<bool>("--sobel") { Description = "Sobel filtering, for a randomly initialised model" };
        var device = new Option<string?>("--device") { Description = "cpu, cuda or cuda:N (default: cuda when available)" };
        var cmd = new Command("eval-linear", "Train linear classifier on top of frozen convolutional layers of an AlexNet (or VGG16, alexnet_small).");
        foreach (Option o in new Option[] { data, model, conv, tencrops, exp, workers.Option, epochs.Option, batch.Option, lr.Option,
                                            momentum.Option, wd.Option, seed.Option, verbose, arch, sobel, device })
            cmd.Options.Add(o);
        cmd.SetAction((pr, ct) => Task.FromResult(Run(new LinearEvalSettings(
            Model: pr.GetValue(model) is { Length: > 0 } m ? Path.GetFullPath(m) : null,
            Data: Path.GetFullPath(pr.GetValue(data)!), Arch: pr.GetValue(arch) ?? "", Conv: pr.GetValue(conv),
            Epochs: epochs.Get(pr), BatchSize: batch.Get(pr), Lr: lr.Get(pr), Momentum: momentum.Get(pr),
            WeightDecayPower: wd.Get(pr), TenCrops: pr.GetValue(tencrops), Seed: seed.Get(pr), Workers: workers.Get(pr)),
            pr.GetValue(exp)!, pr.GetValue(sobel), pr.GetValue(device), ct)));
        return cmd;
    }

    static int Run(LinearEvalSettings settings, string exp, bool sobel, string? device, CancellationToken ct)
    {
        try
        {
            // Everything a user can get wrong is checked before anything is written.
            settings.Validate();
            EvalModelFlags.Check(settings.Model, settings.Arch, sobel);
            var datasets = EvalDatasets.Open(settings.Data);
            var (net, dev) = EvalModelFlags.Load(settings.Model, settings.Arch, sobel, settings.Seed, device);
            using var _ = net;
            settings = settings with { Arch = net.Arch };
            var layer = ProbeLayer.For(net.Arch, settings.Conv);
            var folder = new LinearEvalFolder(exp);
            folder.Prepare(settings);
            using var console = EvalConsole.Create();
            var run = new LinearEvaluation(new FrozenTrunk(net, layer), datasets.Train, datasets.Test, datasets.Classes.Count,
                                           settings, folder, dev);
            run.Run(console, ct);
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(Errors.Prefix + $"interrupted; the same command continues from the last finished epoch ({exp}).");
            return Errors.Interrupted;
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
    }
}
