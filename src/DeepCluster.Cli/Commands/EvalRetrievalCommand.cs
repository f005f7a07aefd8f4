using System.CommandLine;
using DeepCluster.Core.Evaluation.Retrieval;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster eval-retrieval`: the published <c>eval_retrieval.py</c> in one command: R-MAC descriptors of an
/// Oxford5k / Paris6k dataset from the model's last conv map, PCA-whitened on the <c>--other</c> dataset, queries ranked by
/// dot product and scored with Oxford's AP; per-query AP and the mAP in <c>--exp</c>. The PCA statistics and the
/// database descriptors are saved in <c>--exp</c> as they are done, so the same command continues a killed run.
/// </summary>
public static class EvalRetrievalCommand
{
    static readonly RetrievalSettings Defaults = new(null, "", null, "");

    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = "the dataset searched: Oxford5k / Paris6k layout (jpg/ or a pack jpg.dcpack, and gt_files/)", Required = true };
        var other = new Option<string?>("--other") { Description = "the dataset PCA-whitening is learned on (Paris6k for Oxford5k and vice versa); without it, no whitening" };
        var model = new Option<string?>("--model") { Description = "evaluate this model: a checkpoint of `deepcluster train` or a released DeepCluster model, PyTorch or Caffe (.caffemodel) (default: a randomly initialised --arch)" };
        var imdim = new Flag<int>("--imdim", "Resize the larger side of each image to this many pixels", Defaults.ImDim, "--S");
        var levels = new Flag<int>("--levels", "R-MAC spatial levels", Defaults.Levels, "--L");
        var npca = new Flag<int>("--n_pca", "output dimension of the PCA-whitening (at most the conv map's channels)", Defaults.PcaDim);
        var seed = new Flag<int>("--seed", "random seed (of a randomly initialised model)", (int)Defaults.Seed);
        var every = new Flag<int>("--checkpoint_every", "images between two saves of the PCA statistics or the database descriptors done", Defaults.CheckpointEvery);
        var exp = new Option<string>("--exp") { Description = "exp folder: eval_retrieval.log, results.json, summary.txt and the work done (descriptors/); a killed run continues from it", Required = true };
        var arch = new Option<string?>("--arch", "-a") { Description = "architecture of the model (default: the one the --model file names)" };
        arch.AcceptOnlyFromAmong(DeepCluster.Core.Models.ModelFactory.Architectures);
        var sobel = new Option<bool>("--sobel") { Description = "Sobel filtering, for a randomly initialised model" };
        var device = new Option<string?>("--device") { Description = "cpu, cuda or cuda:N (default: cuda when available)" };
        var cmd = new Command("eval-retrieval", "Instance retrieval on Oxford5k / Paris6k with R-MAC descriptors; reports per-query AP and mAP.");
        foreach (Option o in new Option[] { dataset, other, model, imdim.Option, levels.Option, npca.Option, seed.Option, every.Option, exp, arch, sobel, device })
            cmd.Options.Add(o);
        cmd.SetAction((pr, ct) => Task.FromResult(Run(new RetrievalSettings(
            Model: pr.GetValue(model) is { Length: > 0 } m ? Path.GetFullPath(m) : null,
            Data: Path.GetFullPath(pr.GetValue(dataset)!), Other: pr.GetValue(other) is { Length: > 0 } o ? Path.GetFullPath(o) : null,
            Arch: pr.GetValue(arch) ?? "", ImDim: imdim.Get(pr), Levels: levels.Get(pr), PcaDim: npca.Get(pr), Seed: seed.Get(pr),
            CheckpointEvery: every.Get(pr)),
            pr.GetValue(exp)!, pr.GetValue(sobel), pr.GetValue(device), ct)));
        return cmd;
    }

    static int Run(RetrievalSettings settings, string exp, bool sobel, string? device, CancellationToken ct)
    {
        try
        {
            // Everything a user can get wrong in the flags and the ground truth is checked before the model runs.
            settings.Validate();
            EvalModelFlags.Check(settings.Model, settings.Arch, sobel);
            using var data = RetrievalDataset.Open(settings.Data, "--dataset");
            using var other = settings.Other is null ? null : RetrievalDataset.Open(settings.Other, "--other");
            var (net, dev) = EvalModelFlags.Load(settings.Model, settings.Arch, sobel, settings.Seed, device);
            using var _ = net;
            settings = settings with { Arch = net.Arch };
            var folder = new RetrievalEvalFolder(exp);
            folder.Prepare(RetrievalIdentity.Of(settings, sobel, data, other));
            using var console = EvalConsole.Create();
            void Say(string line) { folder.Log(line); console.OnLog(line); }
            Say($"{net.Arch} on {data.Name}: {data.Images.Count} images{(data.Pack is null ? "" : $" from the {data.Pack}")}, {data.Queries.Count} queries");
            var result = new RetrievalEvaluation(net, data, other, settings, folder.Descriptors, dev).Run(console, Say, ct);
            Say(folder.WriteResults(settings, data.Name, result));
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(Errors.Prefix + $"interrupted; the same command continues from the work saved in {exp}.");
            return Errors.Interrupted;
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
    }
}
