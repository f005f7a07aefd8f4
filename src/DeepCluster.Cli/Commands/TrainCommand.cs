using System.CommandLine;
using DeepCluster.Actors.Hosting;
using DeepCluster.Core.Data;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Native;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster train DIR`: the published main.py (same flags, aliases and defaults), run as the actor pipeline,
/// persisted so that the same command continues a killed run. `deepcluster resume EXP` continues from the folder alone.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var o = new TrainOptions();
        var cmd = new Command("train", "PyTorch Implementation of DeepCluster: train a convnet without labels by clustering its features.");
        o.AddTo(cmd);
        cmd.SetAction((pr, ct) => RunAsync(o.Read(pr), o.ConfigFile(pr), ct, o.Restart(pr)));
        return cmd;
    }

    public static Command CreateResume()
    {
        var exp = new Argument<string>("EXP") { Description = "experiment folder of a run to continue" };
        var epochs = new Option<int?>("--epochs") { Description = "new total number of epochs (default: as started)" };
        var config = new Option<string?>("--config") { Description = "HOCON configuration file (default: config/deepcluster.conf next to the program)" };
        var cmd = new Command("resume", "Continue an experiment from its folder, where it stopped.") { exp, epochs, config };
        cmd.SetAction(async (pr, ct) =>
        {
            var folder = new ExperimentFolder(pr.GetValue(exp)!);
            TrainConfig? saved;
            try { saved = folder.ReadConfig(); }
            catch (InvalidDataException e) { return Errors.Fail(e.Message); }
            if (saved is null) return Errors.Fail($"{folder.Root}: no experiment here (config.json missing).");
            var cfg = saved with { Exp = folder.Root, Epochs = pr.GetValue(epochs) ?? saved.Epochs };
            return await RunAsync(cfg, pr.GetValue(config), ct);
        });
        return cmd;
    }

    static async Task<int> RunAsync(TrainConfig config, string? hocon, CancellationToken ct, bool restart = false)
    {
        try
        {
            config.Validate();
            CheckInputs(config);
            TorchRuntime.ResolveDevice(config.Device);
            using var console = ConsoleObserver.Create(config.Verbose);
            var outcome = await ExperimentHost.RunAsync(config, hocon, console, ct, restart);
            console.Finish();
            if (outcome.Success) return 0;
            if (outcome.Interrupted) { Console.Error.WriteLine($"deepcluster: {outcome.Message}"); return Errors.Interrupted; }
            return Errors.Fail(outcome.Message);
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
    }

    /// <summary>Checks what a user can get wrong before anything is written: the dataset, k, --resume.</summary>
    static void CheckInputs(TrainConfig c)
    {
        var ds = DatasetSource.Open(c.Data, c.DataFormat, c.Split, c.Limit, c.SkipBadFiles);
        if (DatasetSource.SkippedReport(ds) is { } skipped) Console.Error.WriteLine($"warning: {skipped}");
        if (c.NmbCluster > ds.Count)
            throw new ArgumentException($"--nmb_cluster {c.NmbCluster}: more clusters than images ({ds.Count}) in {c.Data}.");
        if (c.Resume is { Length: > 0 } r && !File.Exists(r))
            throw new FileNotFoundException($"--resume {r}: no checkpoint found at this path.");
    }
}

/// <summary>The flags of main.py (names, aliases, defaults) plus this port's own.</summary>
sealed class TrainOptions
{
    readonly Argument<string> data = new("DIR") { Description = "path to dataset (ImageFolder root, or a folder of MNIST/Fashion-MNIST IDX files)" };
    readonly Option<string> arch = new("--arch", "-a") { Description = "CNN architecture (default: alexnet)", DefaultValueFactory = _ => "alexnet" };
    readonly Option<bool> sobel = new("--sobel") { Description = "Sobel filtering" };
    readonly Option<string> clustering = new("--clustering") { Description = "clustering algorithm (default: Kmeans)", DefaultValueFactory = _ => "Kmeans" };
    readonly Option<int> k = new("--nmb_cluster", "--k") { Description = "number of cluster for k-means (default: 10000)", DefaultValueFactory = _ => 10000 };
    readonly Option<double> lr = new("--lr") { Description = "learning rate (default: 0.05)", DefaultValueFactory = _ => 0.05 };
    readonly Option<double> wd = new("--wd") { Description = "weight decay pow (default: -5)", DefaultValueFactory = _ => -5 };
    readonly Option<double> reassign = new("--reassign") { Description = "how many epochs of training between two consecutive reassignments of clusters (default: 1)", DefaultValueFactory = _ => 1.0 };
    readonly Option<int> workers = new("--workers") { Description = "number of data loading workers (default: 4)", DefaultValueFactory = _ => 4 };
    readonly Option<int> epochs = new("--epochs") { Description = "number of total epochs to run (default: 200)", DefaultValueFactory = _ => 200 };
    readonly Option<int> startEpoch = new("--start_epoch") { Description = "manual epoch number (useful on restarts) (default: 0)", DefaultValueFactory = _ => 0 };
    readonly Option<int> batch = new("--batch") { Description = "mini-batch size (default: 256)", DefaultValueFactory = _ => 256 };
    readonly Option<double> momentum = new("--momentum") { Description = "momentum (default: 0.9)", DefaultValueFactory = _ => 0.9 };
    readonly Option<string?> resume = new("--resume") { Description = "path to checkpoint (default: None)" };
    readonly Option<int> checkpoints = new("--checkpoints") { Description = "how many iterations between two checkpoints (default: 25000)", DefaultValueFactory = _ => 25000 };
    readonly Option<int> seed = new("--seed") { Description = "random seed (default: 31)", DefaultValueFactory = _ => 31 };
    readonly Option<string> exp = new("--exp") { Description = "path to exp folder (default: exp)", DefaultValueFactory = _ => "exp" };
    readonly Option<bool> verbose = new("--verbose") { Description = "chatty" };
    readonly Option<string?> device = new("--device") { Description = "cpu, cuda or cuda:N (default: cuda when available)" };
    readonly Option<string?> config = new("--config") { Description = "HOCON configuration file (default: config/deepcluster.conf next to the program)" };
    readonly Option<string> format = new("--data-format") { Description = "dataset layout: auto, imagefolder or idx (default: auto)", DefaultValueFactory = _ => "auto" };
    readonly Option<string> split = new("--split") { Description = "IDX split: train or t10k (default: train)", DefaultValueFactory = _ => "train" };
    readonly Option<int?> limit = new("--limit") { Description = "use only N images: the first N of an IDX folder (e.g. 10000 for fmnist-10k), a class-balanced sample (fixed seed) of an ImageFolder" };
    readonly Option<int> pca = new("--pca") { Description = "PCA dimension before clustering (default: 256)", DefaultValueFactory = _ => 256 };
    readonly Option<int> niter = new("--niter") { Description = "k-means iterations (default: 20)", DefaultValueFactory = _ => 20 };
    readonly Option<bool> skipBad = new("--skip-bad-files") { Description = "skip unreadable images (counted and reported) instead of stopping" };
    readonly Option<bool> restart = new("--restart") { Description = "start the experiment over: move what --exp holds (journal, results) to EXP/replaced-TIME first" };

    public void AddTo(Command cmd)
    {
        arch.AcceptOnlyFromAmong(DeepCluster.Core.Models.ModelFactory.Architectures);
        clustering.AcceptOnlyFromAmong("Kmeans", "PIC");
        format.AcceptOnlyFromAmong("auto", "imagefolder", "idx");
        cmd.Arguments.Add(data);
        foreach (Option opt in new Option[] { arch, sobel, clustering, k, lr, wd, reassign, workers, epochs, startEpoch, batch,
                                              momentum, resume, checkpoints, seed, exp, verbose, device, config, format, split,
                                              limit, pca, niter, skipBad, restart })
            cmd.Options.Add(opt);
    }

    public string? ConfigFile(ParseResult pr) => pr.GetValue(config);

    public bool Restart(ParseResult pr) => pr.GetValue(restart);

    public TrainConfig Read(ParseResult pr) => new()
    {
        Data = pr.GetValue(data)!,
        Arch = pr.GetValue(arch)!,
        Sobel = pr.GetValue(sobel),
        Clustering = pr.GetValue(clustering)!,
        NmbCluster = pr.GetValue(k),
        Lr = pr.GetValue(lr),
        Wd = pr.GetValue(wd),
        Reassign = pr.GetValue(reassign),
        Workers = pr.GetValue(workers),
        Epochs = pr.GetValue(epochs),
        StartEpoch = pr.GetValue(startEpoch),
        Batch = pr.GetValue(batch),
        Momentum = pr.GetValue(momentum),
        Resume = string.IsNullOrEmpty(pr.GetValue(resume)) ? null : Path.GetFullPath(pr.GetValue(resume)!),
        Checkpoints = pr.GetValue(checkpoints),
        Seed = pr.GetValue(seed),
        Exp = Path.GetFullPath(pr.GetValue(exp)!),
        Verbose = pr.GetValue(verbose),
        Device = pr.GetValue(device),
        DataFormat = pr.GetValue(format)!,
        Split = pr.GetValue(split)!,
        Limit = pr.GetValue(limit),
        Pca = pr.GetValue(pca),
        Niter = pr.GetValue(niter),
        SkipBadFiles = pr.GetValue(skipBad),
    };
}
