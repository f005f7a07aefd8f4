using Akka.Actor;
using Akka.Event;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Report;

namespace DeepCluster.Actors.Experiment;

/// <summary>
/// Render <c>report.html</c> from what the experiment folder holds now. <paramref name="Verbose"/>: say how long it took.
/// <paramref name="Clusters"/>: the last finished epoch's cluster lists, which the experiment has just logged (null: read
/// from the <c>clusters</c> log, which holds every epoch).
/// </summary>
public sealed record RenderReport(bool Verbose, EpochClusters? Clusters = null);

/// <summary>Answered with <see cref="ReportFlushed"/> once every render asked for before it is written.</summary>
public sealed record FlushReport
{
    public static FlushReport Instance { get; } = new();
}

/// <summary>The answer to <see cref="FlushReport"/>.</summary>
public sealed record ReportFlushed
{
    public static ReportFlushed Instance { get; } = new();
}

/// <summary>
/// Keeps <c>report.html</c> of a running experiment current (<see cref="ExperimentReport"/>): the experiment asks for a
/// render when an epoch's outputs are written and goes on with the next epoch while this actor, on a thread of its own,
/// draws the page; renders run one at a time, in order, with the dataset kept open between them. A render that fails
/// is one line in the run's log (sent to the parent as <see cref="ExperimentLog"/>); it never fails the run.
/// </summary>
public sealed class ReportActor : ReceiveActor
{
    readonly ReportDatasets datasets = new();
    readonly ILoggingAdapter log = Context.GetLogger();

    public ReportActor(ExperimentFolder folder)
    {
        Receive<RenderReport>(r => Render(folder, r.Verbose, r.Clusters));
        Receive<FlushReport>(_ => Sender.Tell(ReportFlushed.Instance));
    }

    public static Props Props(ExperimentFolder folder) => Akka.Actor.Props.Create(() => new ReportActor(folder));

    void Render(ExperimentFolder folder, bool verbose, EpochClusters? clusters)
    {
        try
        {
            var result = ExperimentReport.Write(folder, datasets, lastEpoch: clusters);
            var line = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{result.Path}: {result.Epochs} epoch(s), {result.Plots.Count} plots, {result.Clusters.Count} clusters shown, in {result.Elapsed.TotalSeconds:F2} s");
            if (verbose) Context.Parent.Tell(new ExperimentLog(line));
            else log.Debug(line);
        }
        catch (Exception e)
        {
            Context.Parent.Tell(new ExperimentLog(
                $"{folder.ReportPath}: not written ({e.GetType().Name}: {e.Message.Split('\n')[0].Trim()}); training goes on"));
        }
    }

    protected override void PostStop()
    {
        datasets.Dispose();
        base.PostStop();
    }
}
