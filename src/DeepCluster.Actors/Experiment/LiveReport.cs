using Akka.Event;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Report;

namespace DeepCluster.Actors.Experiment;

/// <summary>
/// Keeps <c>report.html</c> of a running experiment current: rewritten when an epoch finishes
/// (<see cref="ExperimentReport"/>), with the dataset kept open between epochs so that each render costs little. A
/// render that fails is one line in the run's log; it never fails the run.
/// </summary>
sealed class LiveReport(ExperimentFolder folder, ILoggingAdapter log, Action<string> say) : IDisposable
{
    readonly ReportDatasets datasets = new();

    /// <summary>Renders the report from what the folder holds now; any failure is said, not thrown. <paramref name="verbose"/>: says how long it took.</summary>
    public void Write(bool verbose)
    {
        try
        {
            var result = ExperimentReport.Write(folder, datasets);
            var line = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{result.Path}: {result.Epochs} epoch(s), {result.Plots.Count} plots, {result.Clusters.Count} clusters shown, in {result.Elapsed.TotalSeconds:F2} s");
            if (verbose) say(line);
            else log.Debug(line);
        }
        catch (Exception e)
        {
            say($"{folder.ReportPath}: not written ({e.GetType().Name}: {e.Message.Split('\n')[0].Trim()}); training goes on");
        }
    }

    public void Dispose() => datasets.Dispose();
}
