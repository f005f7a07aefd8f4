using System.CommandLine;
using DeepCluster.Core.Evaluation;
using DeepCluster.Core.Evaluation.Voc;
using DeepCluster.Core.Native;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster eval-voc`: the published <c>eval_voc_classif.py</c> (same flags and defaults; 0/1 integers for its
/// switches): fine-tunes the model on a Pascal VOC 2007 split for multi-label classification and reports per-class AP
/// and mAP on the training and the test split; the same command continues a killed run from its <c>--exp</c> folder.
/// </summary>
public static class EvalVocCommand
{
    static readonly VocEvalSettings Defaults = new(null, "", "");

    public static Command Create()
    {
        var vocdir = new Option<string>("--vocdir") { Description = "pascal voc 2007 dataset (JPEGImages/ or a pack JPEGImages.dcpack, and ImageSets/Main/)", Required = true };
        var split = new Option<string>("--split") { Description = "training split (default: train; tested on val, or on test after trainval)" };
        split.AcceptOnlyFromAmong("train", "trainval");
        var model = new Option<string?>("--model") { Description = "evaluate this model: a checkpoint of `deepcluster train` or a released DeepCluster model, PyTorch or Caffe (.caffemodel) (default: a randomly initialised --arch)" };
        var nit = new Flag<int>("--nit", "Number of training iterations", Defaults.Nit);
        var fc68 = new Flag<int>("--fc6_8", "If 1, train only the final classifier (fc6-fc8); if 0, fine-tune all layers", 1);
        var bn = new Flag<int>("--train_batchnorm", "If 1, train batch-norm layer parameters (with --fc6_8 1)", 0);
        var randomCrops = new Flag<int>("--eval_random_crops", "If 1, eval on 10 random crops, otherwise eval on 10 fixed crops (TenCrop)", 1);
        foreach (var f in new[] { fc68, bn, randomCrops }) f.Option.AcceptOnlyFromAmong("0", "1");
        var stepsize = new Flag<int>("--stepsize", "Decay step (the learning rate is halved every stepsize iterations)", Defaults.StepSize);
        var lr = new Flag<double>("--lr", "learning rate", Defaults.Lr);
        var wd = new Flag<double>("--wd", "weight decay", Defaults.WeightDecay);
        var minScale = new Flag<double>("--min_scale", "scale", Defaults.MinScale);
        var maxScale = new Flag<double>("--max_scale", "scale", Defaults.MaxScale);
        var seed = new Flag<int>("--seed", "random seed", (int)Defaults.Seed);
        var batch = new Flag<int>("--batch_size", "mini-batch size (16 in the published script)", Defaults.BatchSize);
        var every = new Flag<int>("--checkpoint_every", "iterations between checkpoints", Defaults.CheckpointEvery);
        var workers = new Flag<int>("--workers", "number of data loading workers", Defaults.Workers);
        var exp = new Option<string>("--exp") { Description = "exp folder: log, checkpoint, results.json and summary.txt; a killed run continues from it", Required = true };
        var arch = new Option<string?>("--arch", "-a") { Description = "architecture of the model (default: the one the --model file names)" };
        arch.AcceptOnlyFromAmong(DeepCluster.Core.Models.ModelFactory.Architectures);
        var sobel = new Option<bool>("--sobel") { Description = "Sobel filtering, for a randomly initialised model" };
        var device = new Option<string?>("--device") { Description = "cpu, cuda or cuda:N (default: cuda when available)" };
        var cmd = new Command("eval-voc", "Fine-tune a model on Pascal VOC 2007 classification and report per-class AP and mAP.");
        foreach (Option o in new Option[] { vocdir, split, model, nit.Option, fc68.Option, bn.Option, randomCrops.Option, stepsize.Option,
                                            lr.Option, wd.Option, minScale.Option, maxScale.Option, seed.Option, batch.Option, every.Option,
                                            workers.Option, exp, arch, sobel, device })
            cmd.Options.Add(o);
        cmd.SetAction((pr, ct) => Task.FromResult(Run(new VocEvalSettings(
            Model: pr.GetValue(model) is { Length: > 0 } m ? Path.GetFullPath(m) : null,
            VocDir: Path.GetFullPath(pr.GetValue(vocdir)!), Arch: pr.GetValue(arch) ?? "", Split: pr.GetValue(split) ?? Defaults.Split,
            Nit: nit.Get(pr), Fc6To8: fc68.Get(pr) == 1, TrainBatchNorm: bn.Get(pr) == 1, EvalRandomCrops: randomCrops.Get(pr) == 1,
            StepSize: stepsize.Get(pr), Lr: lr.Get(pr), WeightDecay: wd.Get(pr), MinScale: minScale.Get(pr), MaxScale: maxScale.Get(pr),
            BatchSize: batch.Get(pr), Seed: seed.Get(pr), CheckpointEvery: every.Get(pr), Workers: workers.Get(pr)),
            pr.GetValue(exp)!, pr.GetValue(sobel), pr.GetValue(device), ct)));
        return cmd;
    }

    static int Run(VocEvalSettings settings, string exp, bool sobel, string? device, CancellationToken ct)
    {
        try
        {
            // Everything a user can get wrong is checked before anything is written.
            settings.Validate();
            EvalModelFlags.Check(settings.Model, settings.Arch, sobel);
            using var train = VocDataset.Open(settings.VocDir, settings.Split);
            using var test = VocDataset.Open(settings.VocDir, settings.TestSplit);
            var (net, dev) = EvalModelFlags.Load(settings.Model, settings.Arch, sobel, settings.Seed, device);
            using var _ = net;
            settings = settings with { Arch = net.Arch };
            var folder = new VocEvalFolder(exp);
            folder.Prepare(settings);
            using var console = EvalConsole.Create();
            new VocFineTuning(net, train, test, settings, folder, dev).Run(console, ct);
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(Errors.Prefix + $"interrupted; the same command continues from the last checkpoint ({exp}).");
            return Errors.Interrupted;
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
    }
}
