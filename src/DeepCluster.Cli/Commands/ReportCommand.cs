using System.CommandLine;
using System.Globalization;
using DeepCluster.Core.Report;

namespace DeepCluster.Cli.Commands;

/// <summary>
/// `deepcluster report EXP`: writes <c>EXP/report.html</c>, one self-contained page (the PNGs inlined) with the plots of
/// <c>metrics.jsonl</c> and sample images of the last epoch's clusters (<see cref="ExperimentReport"/>). A run rewrites
/// it after every epoch; this command makes it for any experiment folder, e.g. one run before reports existed.
/// </summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var exp = new Argument<string>("EXP") { Description = "experiment folder (the --exp of a train run)" };
        var cmd = new Command("report", "Write EXP/report.html: plots of the run's metrics and sample images of the last epoch's clusters, in one self-contained page.")
            { exp };
        cmd.SetAction(pr => Run(pr.GetValue(exp)!));
        return cmd;
    }

    static int Run(string exp)
    {
        try
        {
            var folder = ExperimentReport.OpenFolder(exp);
            var result = ExperimentReport.Write(folder);
            foreach (var note in result.Notes) Errors.Warn(note);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Path}: {result.Epochs} epoch(s), {result.Plots.Count} plots, {result.Clusters.Count} clusters shown, in {result.Elapsed.TotalSeconds:F1} s"));
            return 0;
        }
        catch (Exception e) when (Errors.IsUserError(e)) { return Errors.Fail(e.Message); }
    }
}
