using System.CommandLine;
using System.Globalization;
using DeepCluster.Core.Data;
using DeepCluster.Core.Evaluation;
using DeepCluster.Core.Models;
using DeepCluster.Core.Visualisation;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster visu`: the published <c>visu/</c> scripts. <c>gradient-ascent</c> (<c>gradient_ascent.py</c>, same flags
/// and defaults) synthesises the image each filter of a conv layer responds to most; <c>top-images</c>
/// (<c>activ-retrieval.py</c>) finds the images of a dataset each filter responds to most. Pictures and lists go to
/// <c>EXP/convN/</c>.
/// </summary>
public static class VisuCommand
{
    static readonly GradientAscentSettings Defaults = new();

    public static Command Create()
    {
        var cmd = new Command("visu", "Look inside the learned filters: gradient-ascent images and top dataset images per filter.");
        cmd.Subcommands.Add(CreateGradientAscent());
        cmd.Subcommands.Add(CreateTopImages());
        return cmd;
    }

    /// <summary>The flags both subcommands share.</summary>
    sealed class ModelOptions
    {
        public Option<string?> Model { get; } = new("--model") { Description = "the model: a checkpoint of `deepcluster train` or a released DeepCluster model (default: a randomly initialised --arch)" };
        public Option<string?> Arch { get; } = new("--arch", "-a") { Description = "architecture of the model (default: the one the --model file names)" };
        public Option<int> Conv { get; } = new("--conv") { Description = "convolutional layer, from 1 (alexnet: 1-5, vgg16: 1-13)", Required = true };
        public Option<string> Exp { get; } = new("--exp") { Description = "folder for the results: they go to EXP/convN/", Required = true };
        public Flag<int> Seed { get; } = new("--seed", "random seed (a randomly initialised model; the starting noise)", 0);
        public Option<string?> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N (default: cuda when available)" };

        public ModelOptions() => Arch.AcceptOnlyFromAmong(ModelFactory.Architectures);

        public IEnumerable<Option> All => [Model, Arch, Conv, Exp, Seed.Option, Device];

        public string? ModelPath(ParseResult pr) => pr.GetValue(Model) is { Length: > 0 } m ? Path.GetFullPath(m) : null;
    }

    static Command CreateGradientAscent()
    {
        var common = new ModelOptions();
        var lr = new Flag<double>("--lr", "learning rate", Defaults.Lr);
        var wd = new Flag<double>("--wd", "weight decay", Defaults.Wd);
        var sig = new Flag<double>("--sig", "gaussian blur", Defaults.Sigma);
        var step = new Flag<int>("--step", "number of iter between gaussian blurs", Defaults.Step);
        var niter = new Flag<int>("--niter", "total number of iterations", Defaults.Iterations);
        var idim = new Option<int?>("--idim") { Description = "size of input image (default: the architecture's, 224; 28 for alexnet_small)" };
        var filters = new Option<string?>("--filters") { Description = "the filters to visualise, e.g. 0,3,5-9 (default: all filters of the layer)" };
        var cmd = new Command("gradient-ascent", "Synthesise, by gradient ascent from noise, the image each filter of a conv layer responds to most.");
        foreach (var o in common.All.Concat([lr.Option, wd.Option, sig.Option, step.Option, niter.Option, idim, filters]))
            cmd.Options.Add(o);
        cmd.SetAction((pr, ct) => Task.FromResult(RunGradientAscent(
            common.ModelPath(pr), pr.GetValue(common.Arch) ?? "", pr.GetValue(common.Conv), pr.GetValue(common.Exp)!,
            new GradientAscentSettings(lr.Get(pr), wd.Get(pr), sig.Get(pr), step.Get(pr), niter.Get(pr), Seed: common.Seed.Get(pr)),
            pr.GetValue(idim), pr.GetValue(filters), pr.GetValue(common.Device), ct)));
        return cmd;
    }

    static Command CreateTopImages()
    {
        var common = new ModelOptions();
        var data = new Option<string>("--data") { Description = "path to dataset: an ImageFolder (DIR/CLASS/IMAGE), a pack of `deepcluster pack`, or IDX files", Required = true };
        var top = new Flag<int>("--top", "save this many images per filter", 9, "--count");
        var workers = new Flag<int>("--workers", "number of data loading workers", 4);
        var cmd = new Command("top-images", "For each filter of a conv layer, the dataset images with the largest spatially averaged activation.");
        foreach (var o in common.All.Concat([data, top.Option, workers.Option]))
            cmd.Options.Add(o);
        cmd.SetAction((pr, ct) => Task.FromResult(RunTopImages(
            common.ModelPath(pr), pr.GetValue(common.Arch) ?? "", pr.GetValue(common.Conv), pr.GetValue(common.Exp)!,
            Path.GetFullPath(pr.GetValue(data)!), top.Get(pr), workers.Get(pr), common.Seed.Get(pr), pr.GetValue(common.Device), ct)));
        return cmd;
    }

    /// <param name="idim">The image side; null: the architecture's input side.</param>
    /// <summary>
    /// The eval commands' model loading; a file that is not a checkpoint at all is named as the <c>--model</c> that is
    /// not a DeepCluster model.
    /// </summary>
    static (DeepClusterNet Net, TorchSharp.torch.Device Device) LoadModel(string? model, string arch, long seed, string? device)
    {
        try
        {
            return EvalModelFlags.Load(model, arch, sobel: false, seed, device);
        }
        catch (InvalidDataException e) when (model is not null && !e.Message.StartsWith("--model", StringComparison.Ordinal))
        {
            var why = e.Message.StartsWith(model + ": ", StringComparison.Ordinal) ? e.Message[(model.Length + 2)..] : e.Message;
            throw new InvalidDataException($"--model {model}: not a DeepCluster model ({why.TrimEnd('.')}).", e);
        }
    }

    static int RunGradientAscent(string? model, string arch, int conv, string exp, GradientAscentSettings settings, int? idim,
                                 string? filterSpec, string? device, CancellationToken ct)
    {
        try
        {
            // The flags are checked before the model loads, the model and layer before anything is written.
            if (idim is int side) settings = settings with { ImageSize = side };
            settings.Validate();
            EvalModelFlags.Check(model, arch, sobel: false);
            var (net, dev) = LoadModel(model, arch, settings.Seed, device);
            using var _ = net;
            if (idim is null) settings = settings with { ImageSize = net.InputSize };
            var tap = new LayerTap(net, conv);
            var filters = FilterSelection.Parse(filterSpec, tap.Channels);
            var ascent = new GradientAscent(tap, settings, dev);
            ascent.CheckImageSize();
            var folder = new VisuFolder(exp, conv);
            folder.Prepare();
            using var console = EvalConsole.Create();
            console.OnLog($"{net.Arch} conv{conv}: gradient ascent on {filters.Length} of {tap.Channels} filters, {settings.Iterations} iterations " +
                          $"at {settings.ImageSize}×{settings.ImageSize} → {folder.LayerDir}");
            var done = new List<FilterVisualisation>();
            void Progress(long it, long total) => console.OnProgress(new LinearEvalProgress(0, LinearEvalPhase.Test, (int)it, (int)total, 0,
                $"conv{conv}: {done.Count}/{filters.Length} filters"));
            foreach (var v in ascent.Run(filters, Progress, ct))
            {
                folder.WriteFilter(v);
                done.Add(v);
                var dead = v.PreReluIterations > 0 ? $" (dead after its ReLU: pre-ReLU output for {v.PreReluIterations} of {settings.Iterations} iterations)" : "";
                console.OnLog(string.Create(CultureInfo.InvariantCulture,
                    $"filter {v.Filter}: activation {v.Activation[0]:G4} → {v.Activation[^1]:G4}, log-softmax {v.Objective[0]:G4} → {v.Objective[^1]:G4}{dead}"));
            }
            folder.WriteAscent(model, net.Arch, settings, done);
            console.OnLog($"wrote {done.Count} filter images and {folder.GridPath}");
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(Errors.Prefix + "interrupted; the filter images already written are kept.");
            return Errors.Interrupted;
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
    }

    static int RunTopImages(string? model, string arch, int conv, string exp, string data, int top, int workers, long seed, string? device,
                            CancellationToken ct)
    {
        try
        {
            if (top < 1) throw new ArgumentException($"--top {top}: keep 1 or more images per filter.");
            if (workers < 1) throw new ArgumentException($"--workers {workers}: use 1 or more.");
            EvalModelFlags.Check(model, arch, sobel: false);
            var dataset = VisuDataset.Open(data);
            var (net, dev) = LoadModel(model, arch, seed, device);
            using var _ = net;
            var tap = new LayerTap(net, conv);
            var search = new TopImages(tap, dev, top, workers: workers);
            var folder = new VisuFolder(exp, conv);
            folder.Prepare();
            using var console = EvalConsole.Create();
            console.OnLog($"{net.Arch} conv{conv}: the top {top} of {dataset.Count} images for each of {tap.Channels} filters → {folder.LayerDir}");
            var result = search.Run(dataset, (done, total, rate) =>
                console.OnProgress(new LinearEvalProgress(0, LinearEvalPhase.Test, done, total, rate, $"conv{conv}: scoring images")), ct);
            // A tile is the image as the model saw it: resized and cropped, not normalised.
            var crop = new Compose(new Resize(LinearEvalTransforms.ResizeSide(net.InputSize)), new CenterCrop(net.InputSize));
            RgbImage Tile(int index) => crop.ApplyImages(dataset.Load(index), new SampleRng(0))[0];
            folder.WriteTop(model, net.Arch, data, top, result, Tile, f =>
                console.OnProgress(new LinearEvalProgress(1, LinearEvalPhase.Test, f + 1, result.Count, 0, $"conv{conv}: writing grids")), ct);
            console.OnLog($"wrote {result.Count} grids, {folder.TopJsonPath} and {folder.TopTextPath}");
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(Errors.Prefix + "interrupted; nothing to resume: run the command again.");
            return Errors.Interrupted;
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
    }
}
