using Akka.Actor;
using Akka.TestKit.Xunit2;
using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Report;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// The experiment's report actor: a flush is answered only after the pages asked for before it are written (the run's
/// end waits on that), and a page that cannot be written is a line to the parent, not a failure.
/// </summary>
[Collection("reported experiment")]
public class ReportActorTests(ReportedExperiment run) : TestKit
{
    static readonly TimeSpan Render = TimeSpan.FromMinutes(1);

    [Fact]
    public void AFlushIsAnsweredAfterThePageAskedForBeforeIt()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(run.CopyTo(dir));
        File.Delete(folder.ReportPath);
        var reporter = ChildActorOf(ReportActor.Props(folder));
        reporter.Tell(new RenderReport(Verbose: true), TestActor);
        reporter.Tell(FlushReport.Instance, TestActor);
        var said = ExpectMsg<ExperimentLog>(Render);
        Assert.StartsWith($"{folder.ReportPath}: 2 epoch(s), 4 plots, {run.ClusterRows} clusters shown, in ", said.Text);
        ExpectMsg<ReportFlushed>(Render);
        Assert.Contains("Clusters of epoch 1", File.ReadAllText(folder.ReportPath));

        File.Delete(folder.ReportPath);
        reporter.Tell(new RenderReport(Verbose: false), TestActor);   // quiet: nothing said, the page written all the same
        reporter.Tell(FlushReport.Instance, TestActor);
        ExpectMsg<ReportFlushed>(Render);
        Assert.True(File.Exists(folder.ReportPath));
    }

    [Fact]
    public void TheClustersSentWithTheRequestAreDrawnWithoutReadingTheLog()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(run.CopyTo(dir));
        var last = DeepCluster.Core.IO.ClustersLog.Read(folder.ClustersPath)[^1];
        File.Delete(folder.ClustersPath);                                   // what the run sends is all there is
        var reporter = ChildActorOf(ReportActor.Props(folder));

        reporter.Tell(new RenderReport(Verbose: true), TestActor);
        Assert.StartsWith($"{folder.ReportPath}: 2 epoch(s), 4 plots, 0 clusters shown", ExpectMsg<ExperimentLog>(Render).Text);
        Assert.Contains($"no sample images: {folder.ClustersPath} not found", File.ReadAllText(folder.ReportPath));

        reporter.Tell(new RenderReport(Verbose: true, new EpochClusters(1, last)), TestActor);
        Assert.StartsWith($"{folder.ReportPath}: 2 epoch(s), 4 plots, {run.ClusterRows} clusters shown", ExpectMsg<ExperimentLog>(Render).Text);
        var html = File.ReadAllText(folder.ReportPath);
        Assert.Contains("Clusters of epoch 1", html);
        Assert.DoesNotContain("no sample images", html);
        // The same rows as the page drawn from the log: the lists in the message are the log's last entry.
        Assert.Equal(ReportedExperiment.Images(File.ReadAllText(new ExperimentFolder(run.Folder).ReportPath)).Select(i => i.Id),
                     ReportedExperiment.Images(html).Select(i => i.Id));
    }

    [Fact]
    public void APageThatCannotBeWrittenIsALineAndTheNextFlushIsStillAnswered()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(run.CopyTo(dir));
        File.Delete(folder.ReportPath);
        Directory.CreateDirectory(folder.ReportPath);                       // a folder where the page would go
        var reporter = ChildActorOf(ReportActor.Props(folder));
        reporter.Tell(new RenderReport(Verbose: false), TestActor);
        reporter.Tell(FlushReport.Instance, TestActor);
        var said = ExpectMsg<ExperimentLog>(Render);
        Assert.StartsWith($"{folder.ReportPath}: not written (", said.Text);
        Assert.EndsWith("; training goes on", said.Text);
        ExpectMsg<ReportFlushed>(Render);
    }
}
