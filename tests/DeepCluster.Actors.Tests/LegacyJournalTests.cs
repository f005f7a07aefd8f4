using DeepCluster.Actors.Experiment;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// Journals written before the journal had its own serializer (events and snapshots in Akka's default JSON,
/// serializer id 1) are still read: each row carries the id of the serializer that wrote it, so old rows go through
/// the old serializer and new rows are written with <see cref="ExperimentSerializer"/> after them.
/// </summary>
[Collection("finished experiment")]
public class LegacyJournalTests(FinishedExperiment finished)
{
    const long Legacy = 1;      // Akka's default serializer (Newtonsoft JSON with CLR type names)

    static ExperimentState Fold(IEnumerable<IExperimentEvent> events) => events.Aggregate(new ExperimentState(), (s, e) => s.Apply(e));

    static void AssertSameState(ExperimentState expected, ExperimentState? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Completed, actual.Completed);
        IReadOnlyList<EpochMetrics> same = [];
        Assert.Equal(expected with { Completed = same }, actual with { Completed = same });
    }

    [Fact]
    public void AnOldJournalIsReadAndContinuedInTheNewFormat()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.File("exp"));
        Directory.CreateDirectory(folder.Root);
        IExperimentEvent E(int i) => JournalSamples.Events[i].Event;
        // An epoch to its end (snapshot there, as the experiment takes it), then a part of the next one.
        var epoch = new[] { E(0), E(1), E(2), E(4), E(6), E(7), E(8) };
        var next = new[] { E(3), E(5), E(9) };
        JournalProbe.Write(folder, JournalProbe.Legacy, epoch, Fold(epoch));
        JournalProbe.Write(folder, JournalProbe.Legacy, next);
        var (events, snapshots) = JournalProbe.SerializerIds(folder);
        Assert.Equal(Enumerable.Repeat(Legacy, 10), events);
        Assert.Equal(new[] { Legacy }, snapshots);

        // Read as the host reads it now: the old snapshot, then the old events after it; or every old event.
        var read = JournalProbe.Read(folder, JournalProbe.Current);
        AssertSameState(Fold(epoch), read.Snapshot);
        Assert.Equal(next, read.Events);
        Assert.Equal(epoch.Concat(next), JournalProbe.Read(folder, JournalProbe.Current, useSnapshot: false).Events);

        // Continued: new rows in the new format after the old ones, and everything still reads in order.
        var more = new[] { E(2), E(4), E(6) };
        JournalProbe.Write(folder, JournalProbe.Current, more, Fold(epoch.Concat(next).Concat(more)));
        (events, snapshots) = JournalProbe.SerializerIds(folder);
        Assert.Equal(Enumerable.Repeat(Legacy, 10).Concat(Enumerable.Repeat((long)ExperimentSerializer.Id, 3)), events);
        Assert.Equal(new[] { Legacy, ExperimentSerializer.Id }, snapshots);
        read = JournalProbe.Read(folder, JournalProbe.Current);
        AssertSameState(Fold(epoch.Concat(next).Concat(more)), read.Snapshot);
        Assert.Empty(read.Events);
        Assert.Equal(13, read.LastSequenceNr);
        Assert.Equal(epoch.Concat(next).Concat(more), JournalProbe.Read(folder, JournalProbe.Current, useSnapshot: false).Events);

        // The code before this format cannot read the new rows, and says which serializer it lacks.
        var e = Assert.ThrowsAny<Exception>(() => JournalProbe.Read(folder, JournalProbe.Legacy, useSnapshot: false));
        Assert.Contains($"[{ExperimentSerializer.Id}]", e.GetBaseException().Message);
    }

    /// <summary>
    /// Rewrites the finished experiment's journal as the code before the explicit serializer wrote it: the same events
    /// under the same persistence id, and the snapshot the experiment takes at an epoch's end (if <paramref name="withSnapshot"/>).
    /// </summary>
    static void RewriteAsLegacy(ExperimentFolder folder, bool withSnapshot)
    {
        var events = JournalProbe.Read(folder, JournalProbe.Current, useSnapshot: false).Events;
        Assert.Contains(events, e => e is EpochDone);
        File.Delete(folder.JournalPath);
        File.Delete(folder.IdPath);           // folders of that time had no experiment.id (one fixed persistence id)
        var end = events.ToList().FindLastIndex(e => e is EpochDone) + 1;
        JournalProbe.Write(folder, JournalProbe.Legacy, events.Take(end).ToList(), withSnapshot ? Fold(events.Take(end)) : null);
        if (end < events.Count) JournalProbe.Write(folder, JournalProbe.Legacy, events.Skip(end).ToList());
        var (rows, snapshots) = JournalProbe.SerializerIds(folder);
        Assert.All(rows.Concat(snapshots), id => Assert.Equal(Legacy, id));
        Assert.Equal(withSnapshot ? 1 : 0, snapshots.Length);
    }

    static string[] Epochs(string exp, int epochs)
    {
        var args = FinishedExperiment.Args(exp);
        args[Array.IndexOf(args, "--epochs") + 1] = epochs.ToString();
        return args;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AnExperimentWithAnOldJournalContinuesWhereItWas(bool withSnapshot)
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(finished.CopyTo(dir.File("exp")));
        RewriteAsLegacy(folder, withSnapshot);

        var (code, output) = FinishedExperiment.Run(Epochs(folder.Root, 2));
        Assert.True(code == 0, output);
        var metrics = folder.ReadMetrics();
        Assert.Equal(new[] { 0, 1 }, metrics.Select(m => m.Epoch));
        Assert.Equal(finished.Metrics, metrics[0]);        // epoch 0 came from the old journal, not trained again
        var (rows, snapshots) = JournalProbe.SerializerIds(folder);
        Assert.Contains(Legacy, rows);
        Assert.Contains((long)ExperimentSerializer.Id, rows);
        Assert.Equal((long)ExperimentSerializer.Id, snapshots[^1]);
    }

    [Fact]
    public void AnUnknownRecordEndsTheRunWithOneLineNamingIt()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(finished.CopyTo(dir.File("exp")));
        JournalProbe.Execute(folder, "UPDATE snapshot SET manifest = 'from-the-future'");

        var (code, output) = FinishedExperiment.Run(Epochs(folder.Root, 2));
        Assert.True(code == 2, output);
        var line = Assert.Single(output.Split('\n'), l => l.Contains("from-the-future"));
        Assert.Contains(folder.JournalPath, line);
        Assert.DoesNotContain("   at ", output);
        Assert.Single(folder.ReadMetrics());
    }
}
