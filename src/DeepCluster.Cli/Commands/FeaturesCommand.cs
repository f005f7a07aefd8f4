using System.CommandLine;
using System.Globalization;
using DeepCluster.Core.Data;
using DeepCluster.Core.Export;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster features --model M --data DIR --out feats.npy [--pca 256] [--l2]`: the features DeepCluster clusters
/// (the classifier output before its last ReLU, as the released ImageNet features) of every image of a dataset, in
/// dataset order, as a float32 .npy, with the images' paths in <c>feats.npy.paths.txt</c> (<see cref="FeatureExport"/>).
/// </summary>
public static class FeaturesCommand
{
    static readonly FeatureExportSettings Defaults = new();

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "the model: a checkpoint of `deepcluster train` or a released DeepCluster model (default: a randomly initialised --arch)" };
        var data = new Option<string>("--data") { Description = "the images: an ImageFolder, a folder of IDX files (MNIST / Fashion-MNIST) or a pack of `deepcluster pack`", Required = true };
        var output = new Option<string>("--out") { Description = "the .npy to write (float32 [images, features]); the images' paths go to OUT.paths.txt, one a line, in row order", Required = true };
        var pca = new Flag<int>("--pca", "PCA-whiten the features to this many dimensions, fitted on all the rows as clustering does (0: none)", Defaults.Pca);
        var l2 = new Option<bool>("--l2") { Description = "L2-normalise each row (after the PCA); with --pca 256 this is exactly what k-means clusters" };
        var split = new Flag<string>("--split", "IDX split to read: train or t10k", "train");
        split.Option.AcceptOnlyFromAmong("train", "t10k");
        var format = new Flag<string>("--data-format", "auto, imagefolder, idx or pack", "auto");
        format.Option.AcceptOnlyFromAmong("auto", "imagefolder", "idx", "pack");
        var batch = new Flag<int>("--batch", "images per forward pass", Defaults.BatchSize);
        var workers = new Flag<int>("--workers", "number of data loading workers", Defaults.Workers);
        var arch = new Option<string?>("--arch", "-a") { Description = "architecture of the model (default: the one the --model file names)" };
        arch.AcceptOnlyFromAmong(DeepCluster.Core.Models.ModelFactory.Architectures);
        var sobel = new Option<bool>("--sobel") { Description = "Sobel filtering, for a randomly initialised model" };
        var seed = new Flag<int>("--seed", "random seed (of a randomly initialised model)", 31);
        var device = new Option<string?>("--device") { Description = "cpu, cuda or cuda:N (default: cuda when available)" };
        var cmd = new Command("features", "Export the features DeepCluster clusters (before the last ReLU) of every image of a dataset, optionally PCA-whitened and L2-normalised.");
        foreach (Option o in new Option[] { model, data, output, pca.Option, l2, split.Option, format.Option, batch.Option, workers.Option,
                                            arch, sobel, seed.Option, device })
            cmd.Options.Add(o);
        cmd.SetAction((pr, ct) => Task.FromResult(Run(
            pr.GetValue(model) is { Length: > 0 } m ? Path.GetFullPath(m) : null, pr.GetValue(data)!, pr.GetValue(output)!,
            new FeatureExportSettings(pca.Get(pr), pr.GetValue(l2), batch.Get(pr), workers.Get(pr)),
            split.Get(pr), format.Get(pr), pr.GetValue(arch) ?? "", pr.GetValue(sobel), seed.Get(pr), pr.GetValue(device), ct)));
        return cmd;
    }

    static int Run(string? model, string data, string output, FeatureExportSettings settings, string split, string format,
                   string arch, bool sobel, int seed, string? device, CancellationToken ct)
    {
        try
        {
            // Everything a user can get wrong is checked before the model runs.
            EvalModelFlags.Check(model, arch, sobel);
            if (settings.Pca < 0) throw new ArgumentException($"--pca {settings.Pca}: give a positive dimension (or 0 for none).");
            if (Directory.Exists(output)) throw new ArgumentException($"--out {output}: is a folder; give the .npy file to write.");
            if (format is "auto" or "idx" && Directory.Exists(data) && !DatasetSource.IsIdxFolder(data, split) &&
                new[] { "train", "t10k" }.FirstOrDefault(o => DatasetSource.IsIdxFolder(data, o)) is { } other)
                throw new ArgumentException($"--split {split}: {data} has no {split}-images-idx3-ubyte[.gz]; its IDX split is {other}.");
            var dataset = DatasetSource.Open(data, format, split);
            using var opened = dataset as IDisposable;         // a pack's mapping
            var (net, dev) = EvalModelFlags.Load(model, arch, sobel, seed, device);
            using var _ = net;
            FeatureExport.Validate(settings, net.FeatureDim, dataset.Count);
            using var console = EvalConsole.Create();
            console.OnLog($"{net.Arch}{(net.UsesSobel ? " with Sobel" : "")}: features of {dataset.Count} images of {data}");
            var result = FeatureExport.Run(net, dev, dataset, output, settings, console, ct);
            console.OnLog(string.Create(CultureInfo.InvariantCulture,
                $"wrote {result.Path}: float32 [{result.Rows}, {result.Cols}]" +
                $"{(settings.Pca > 0 ? $", PCA-whitened to {settings.Pca}" : ", before the last ReLU")}{(settings.L2 ? ", L2-normalised" : "")}; " +
                $"image paths in {result.PathsFile}; {result.Seconds:F1} s"));
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(Errors.Prefix + "interrupted; nothing was written: run the command again.");
            return Errors.Interrupted;
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
    }
}
