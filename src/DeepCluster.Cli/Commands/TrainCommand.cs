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
    /// <param name="pipeline">How the pipeline actors are made; null: the real ones (tests substitute failing ones).</param>
    public static Command Create(PipelineProps? pipeline = null)
    {
        var o = new TrainOptions();
        var cmd = new Command("train", "PyTorch Implementation of DeepCluster: train a convnet without labels by clustering its features.");
        o.AddTo(cmd);
        cmd.SetAction((pr, ct) => RunAsync(o.Read(pr), o.ConfigFile(pr), ct, pipeline, o.Restart(pr), o.Journal(pr)));
        return cmd;
    }

    /// <summary>
    /// `resume EXP`: continue the experiment folder EXP in this process; `resume ID`: resume a paused experiment on a
    /// host. An existing folder, or a path (with a /), is EXP; any other argument, or one given with --host,
    /// --token-file or --cacert, is ID.
    /// </summary>
    public static Command CreateResume(PipelineProps? pipeline = null)
    {
        var exp = new Argument<string>("EXP|ID")
        {
            Description = "experiment folder of a run to continue here, or the id of a paused experiment on a host " +
                          "(an existing folder or a path with a / is a folder; with --host, --token-file or --cacert it is always an id)",
        };
        var epochs = new Option<int?>("--epochs") { Description = "new total number of epochs (default: as started; folder only)" };
        var config = new Option<string?>("--config")
        {
            Description = "HOCON configuration file: a folder's run settings, or the host's API URL and token file for an id " +
                          "(default: config/deepcluster.conf next to the program)",
        };
        var journal = TrainOptions.JournalOption();
        var control = new ControlOptions(config);
        var cmd = new Command("resume",
            "Continue an experiment from its folder, where it stopped (in this process), or resume a paused experiment on a host by its id.")
            { exp, epochs, config, journal };
        control.AddTo(cmd);
        cmd.SetAction(async (pr, ct) =>
        {
            var target = pr.GetValue(exp)!;
            if (control.Given(pr) || !(Directory.Exists(target) || target.Contains('/') || target is "." or ".."))
            {
                if (pr.GetResult(epochs) is { Implicit: false } || pr.GetResult(journal) is { Implicit: false })
                    return Errors.Fail($"{(pr.GetResult(epochs) is { Implicit: false } ? "--epochs" : "--journal")}: only for continuing an experiment folder in " +
                                       $"this process; {target} is not a folder here, so it is resumed as an experiment id on the host.");
                return await ExperimentCommands.ResumeAsync(control, pr, target, ct);
            }
            var folder = new ExperimentFolder(target);
            TrainConfig? saved;
            try { saved = folder.ReadConfig(); }
            catch (InvalidDataException e) { return Errors.Fail(e.Message); }
            if (saved is null) return Errors.Fail($"{folder.Root}: no experiment here (config.json missing).");
            var cfg = saved with { Exp = folder.Root, Epochs = pr.GetValue(epochs) ?? saved.Epochs };
            return await RunAsync(cfg, pr.GetValue(config), ct, pipeline, journal: pr.GetValue(journal));
        });
        return cmd;
    }

    static async Task<int> RunAsync(TrainConfig config, string? hocon, CancellationToken ct, PipelineProps? pipeline, bool restart = false,
                                    string? journal = null)
    {
        try
        {
            // Everything a user can get wrong is checked before anything is written or loaded.
            config.Validate();
            HostConfig.Load(hocon, journal);
            CheckInputs(config);
            using var console = ConsoleObserver.Create(config.Verbose);
            var outcome = await ExperimentHost.RunAsync(config, hocon, console, ct, pipeline, restart, journal);
            console.Finish();
            if (outcome.Success) return 0;
            if (outcome.Interrupted) { Console.Error.WriteLine(Errors.Prefix + outcome.Message); return Errors.Interrupted; }
            return Errors.Fail(outcome.Message);
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
    }

    /// <summary>
    /// Checks what a user can get wrong before anything is written: --exp (unless <paramref name="experimentFolder"/>
    /// is false: `submit` leaves the folder to the host), the dataset and --split, k, --resume.
    /// </summary>
    internal static void CheckInputs(TrainConfig c, bool experimentFolder = true)
    {
        for (var p = experimentFolder ? Path.GetFullPath(c.Exp) : null; !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
        {
            if (Directory.Exists(p)) break;
            if (File.Exists(p))
                throw new ArgumentException(p == Path.GetFullPath(c.Exp)
                    ? $"--exp {c.Exp}: is a file; give a folder for the experiment."
                    : $"--exp {c.Exp}: {p} is a file, so the experiment folder cannot be made there.");
        }
        if (c.DataFormat != "imagefolder" && Directory.Exists(c.Data) && !DatasetSource.IsIdxFolder(c.Data, c.Split) &&
            new[] { "train", "t10k" }.Any(other => DatasetSource.IsIdxFolder(c.Data, other)))
            throw new ArgumentException($"--split {c.Split}: {c.Data} has no {c.Split}-images-idx3-ubyte[.gz]; " +
                $"its IDX split is {string.Join(" or ", new[] { "train", "t10k" }.Where(o => DatasetSource.IsIdxFolder(c.Data, o)))}.");
        var ds = DatasetSource.Open(c.Data, c.DataFormat, c.Split, c.Limit, c.SkipBadFiles);
        if (DatasetSource.SkippedReport(ds) is { } skipped) Errors.Warn(skipped);
        if (c.NmbCluster > ds.Count)
            throw new ArgumentException($"--nmb_cluster {c.NmbCluster}: more clusters than images ({ds.Count}) in {c.Data}.");
        if (c.Resume is { Length: > 0 } r && !File.Exists(r))
            throw new FileNotFoundException($"--resume {r}: no checkpoint found at this path.");
    }
}

/// <summary>
/// The flags of main.py (names, aliases, help texts and defaults) plus this port's own. Each default is stated once,
/// in the help text as main.py's argparse does ("(default: x)"), and taken from <see cref="TrainConfig"/>: the flags
/// carry no System.CommandLine default, so the help does not print it a second time.
/// </summary>
sealed class TrainOptions
{
    static readonly TrainConfig Defaults = new() { Data = "", Exp = "exp" };

    readonly Argument<string> data = new("DIR") { Description = "path to dataset (ImageFolder root, a folder of MNIST/Fashion-MNIST IDX files, or a pack file of `deepcluster pack`)" };
    readonly Flag<string> arch = new("--arch", "CNN architecture", Defaults.Arch, "-a");
    readonly Option<bool> sobel = new("--sobel") { Description = "Sobel filtering" };
    readonly Flag<string> clustering = new("--clustering", "clustering algorithm", Defaults.Clustering);
    readonly Flag<int> k = new("--nmb_cluster", "number of cluster for k-means", Defaults.NmbCluster, "--k");
    readonly Flag<double> lr = new("--lr", "learning rate", Defaults.Lr);
    readonly Flag<double> wd = new("--wd", "weight decay pow", Defaults.Wd);
    readonly Flag<double> reassign = new("--reassign", "how many epochs of training between two consecutive reassignments of clusters", Defaults.Reassign);
    readonly Flag<int> workers = new("--workers", "number of data loading workers", Defaults.Workers);
    readonly Flag<int> epochs = new("--epochs", "number of total epochs to run", Defaults.Epochs);
    readonly Flag<int> startEpoch = new("--start_epoch", "manual epoch number (useful on restarts)", Defaults.StartEpoch);
    readonly Flag<int> batch = new("--batch", "mini-batch size", Defaults.Batch);
    readonly Flag<double> momentum = new("--momentum", "momentum", Defaults.Momentum);
    readonly Option<string?> resume = new("--resume") { Description = "path to checkpoint (default: None)" };
    readonly Flag<int> checkpoints = new("--checkpoints", "how many iterations between two checkpoints", Defaults.Checkpoints);
    readonly Flag<int> seed = new("--seed", "random seed", Defaults.Seed);
    readonly Flag<string> exp = new("--exp", "path to exp folder", Defaults.Exp);
    readonly Option<bool> verbose = new("--verbose") { Description = "chatty" };
    readonly Option<string?> device = new("--device") { Description = "cpu, cuda or cuda:N (default: cuda when available)" };
    readonly Option<string?> config = new("--config") { Description = "HOCON configuration file; overrides only the settings it sets (default: config/deepcluster.conf next to the program)" };
    readonly Flag<string> format = new("--data-format", "dataset layout: auto, imagefolder, idx or pack", Defaults.DataFormat);
    readonly Flag<string> split = new("--split", "IDX split: train or t10k", Defaults.Split);
    readonly Option<int?> limit = new("--limit") { Description = "use only N images: the first N of an IDX folder (e.g. 10000 for fmnist-10k), a class-balanced sample (fixed seed) of an ImageFolder" };
    readonly Flag<int> pca = new("--pca", "PCA dimension before clustering", Defaults.Pca);
    readonly Flag<int> niter = new("--niter", "k-means iterations", Defaults.Niter);
    readonly Flag<string> precision = new("--precision",
        "arithmetic of convolutions and linear layers in training and the feature pass: fp32, or bf16 (autocast: BatchNorm " +
        "statistics, the loss, weights and checkpoints stay fp32; on a CPU only where it has native bf16)", Defaults.Precision);
    readonly Option<bool> skipBad = new("--skip-bad-files") { Description = "skip unreadable images (counted and reported) instead of stopping" };
    readonly Option<bool> restart = new("--restart") { Description = "start the experiment over: move what --exp holds (journal, results) to EXP/replaced-TIME first" };
    readonly Option<string?> journal = JournalOption();

    /// <summary><c>--journal</c>: overrides <c>deepcluster.journal</c> of the configuration.</summary>
    public static Option<string?> JournalOption() => new("--journal")
    {
        Description = "where the experiment is journaled: sqlite (experiment.db in --exp) or a PostgreSQL database shared by " +
                      "experiments, as postgres://user:password@host:port/database or an Npgsql connection string " +
                      "(default: deepcluster.journal of the configuration, sqlite)",
    };

    public void AddTo(Command cmd)
    {
        arch.Option.AcceptOnlyFromAmong(DeepCluster.Core.Models.ModelFactory.Architectures);
        clustering.Option.AcceptOnlyFromAmong("Kmeans", "PIC");
        format.Option.AcceptOnlyFromAmong("auto", "imagefolder", "idx", "pack");
        split.Option.AcceptOnlyFromAmong("train", "t10k");
        precision.Option.AcceptOnlyFromAmong(DeepCluster.Core.Training.PrecisionNames.All);
        cmd.Arguments.Add(data);
        foreach (Option opt in new Option[] { arch.Option, sobel, clustering.Option, k.Option, lr.Option, wd.Option, reassign.Option,
                                              workers.Option, epochs.Option, startEpoch.Option, batch.Option, momentum.Option, resume,
                                              checkpoints.Option, seed.Option, exp.Option, verbose, device, config, format.Option,
                                              split.Option, limit, pca.Option, niter.Option, precision.Option, skipBad, restart, journal })
            cmd.Options.Add(opt);
    }

    public string? ConfigFile(ParseResult pr) => pr.GetValue(config);

    /// <summary><c>--config</c> itself (`submit` reads the host's API settings from it).</summary>
    public Option<string?> ConfigOption => config;

    /// <summary>Leaves --exp, --restart and --journal out of the help (`submit` still parses them, to refuse them in words).</summary>
    public void HideInProcessOnly()
    {
        foreach (var o in new Option[] { exp.Option, restart, journal }) o.Hidden = true;
    }

    /// <summary>Which of --exp, --restart, --journal are on the command line (flags of a run in this process only).</summary>
    public IReadOnlyList<string> InProcessOnly(ParseResult pr) =>
        new Option[] { exp.Option, restart, journal }.Where(o => pr.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();

    public bool Restart(ParseResult pr) => pr.GetValue(restart);

    public string? Journal(ParseResult pr) => pr.GetValue(journal);

    public TrainConfig Read(ParseResult pr) => new()
    {
        Data = pr.GetValue(data)!,
        Arch = arch.Get(pr),
        Sobel = pr.GetValue(sobel),
        Clustering = clustering.Get(pr),
        NmbCluster = k.Get(pr),
        Lr = lr.Get(pr),
        Wd = wd.Get(pr),
        Reassign = reassign.Get(pr),
        Workers = workers.Get(pr),
        Epochs = epochs.Get(pr),
        StartEpoch = startEpoch.Get(pr),
        Batch = batch.Get(pr),
        Momentum = momentum.Get(pr),
        Resume = string.IsNullOrEmpty(pr.GetValue(resume)) ? null : Path.GetFullPath(pr.GetValue(resume)!),
        Checkpoints = checkpoints.Get(pr),
        Seed = seed.Get(pr),
        Exp = Path.GetFullPath(exp.Get(pr)),
        Verbose = pr.GetValue(verbose),
        Device = pr.GetValue(device),
        DataFormat = format.Get(pr),
        Split = split.Get(pr),
        Limit = pr.GetValue(limit),
        Pca = pca.Get(pr),
        Niter = niter.Get(pr),
        SkipBadFiles = pr.GetValue(skipBad),
        Precision = precision.Get(pr),
    };
}
