using DeepCluster.Core.Data;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.IO;
using Razorvine.Pickle;

namespace DeepCluster.Core.Export;

/// <summary>One epoch's clustering of an experiment as (image path, cluster index) pairs, in dataset order.</summary>
/// <param name="Epoch">The epoch.</param>
/// <param name="Pairs">One pair per image the clustering assigned (every image, for k-means and PIC).</param>
/// <param name="Clusters">Clusters in that epoch's log (empty ones included).</param>
/// <param name="Dataset">The dataset the paths come from.</param>
public sealed record ClusterAssignments(int Epoch, IReadOnlyList<(string Path, int Cluster)> Pairs, int Clusters, string Dataset);

/// <summary>
/// <c>deepcluster assignments</c>: an experiment's clustering as the released <c>*_cluster_assignment.pickle</c> gives
/// it: a pickled Python list of <c>(image path, cluster index)</c> tuples. The clusters come from the experiment's
/// <c>clusters</c> log (main.py's: per finished epoch, k lists of dataset indexes; <see cref="ClustersLog"/>), the
/// paths from its dataset opened as training opened it (<c>config.json</c>: path, format, split, limit), so index i is
/// the same image (<see cref="SamplePaths"/>).
/// </summary>
public static class ClusterAssignmentExport
{
    /// <summary>
    /// Reads epoch <paramref name="epoch"/> (null: the last logged) of the experiment in <paramref name="exp"/>, with the
    /// images of <paramref name="data"/> (null: the dataset of its <c>config.json</c>).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="InvalidDataException">Not an experiment folder, no epoch finished yet, or a dataset that does not
    /// hold the images the log names; one line naming the folder.</exception>
    /// <exception cref="ArgumentException">An epoch that was not logged; names <c>--epoch</c> and the epochs there are.</exception>
    public static ClusterAssignments Read(string exp, int? epoch, string? data = null)
    {
        if (!Directory.Exists(exp)) throw new DirectoryNotFoundException($"EXP {exp}: no such folder.");
        var folder = new ExperimentFolder(exp);
        var config = folder.ReadConfig()
            ?? throw new InvalidDataException($"EXP {exp}: not an experiment folder (no config.json; `deepcluster train --exp` makes one).");
        if (!File.Exists(folder.ClustersPath))
            throw new InvalidDataException($"EXP {exp}: no clusters log yet ({folder.ClustersPath} is written when the first epoch ends).");
        var log = ClustersLog.Read(folder.ClustersPath);
        if (log.Length == 0) throw new InvalidDataException($"EXP {exp}: the clusters log holds no epoch yet.");
        var epochs = EpochNumbers(folder, config, log.Length);
        int at = epoch is int e ? Array.IndexOf(epochs, e) : epochs.Length - 1;
        if (at < 0)
            throw new ArgumentException($"--epoch {epoch}: {exp} has the clusters of epoch{(epochs.Length == 1 ? $" {epochs[0]}" : $"s {Describe(epochs)}")}.");

        var source = data ?? config.Data;
        if (data is null && !File.Exists(source) && !Directory.Exists(source))
            throw new DirectoryNotFoundException($"EXP {exp}: its dataset {source} is not there any more; give its new place with --data.");
        var dataset = DatasetSource.Open(source, config.DataFormat, config.Split, config.Limit, config.SkipBadFiles);
        using var opened = dataset as IDisposable;
        var clusters = log[at];
        var cluster = new int[dataset.Count];
        Array.Fill(cluster, -1);
        for (int c = 0; c < clusters.Length; c++)
            foreach (var i in clusters[c])
            {
                if ((uint)i >= (uint)dataset.Count)
                    throw new InvalidDataException($"EXP {exp}: epoch {epochs[at]}'s cluster {c} holds image {i}, but {source} has {dataset.Count} images; " +
                                                   "give the dataset the experiment was trained on with --data.");
                if (cluster[i] >= 0)
                    throw new InvalidDataException($"{folder.ClustersPath}: epoch {epochs[at]}: image {i} is in clusters {cluster[i]} and {c}.");
                cluster[i] = c;
            }
        var pairs = new List<(string, int)>(dataset.Count);
        for (int i = 0; i < cluster.Length; i++)
            if (cluster[i] >= 0) pairs.Add((SamplePaths.Of(dataset, i), cluster[i]));
        return new ClusterAssignments(epochs[at], pairs, clusters.Length, source);
    }

    /// <summary>
    /// The epoch of each entry of the clusters log: <c>metrics.jsonl</c> has one line per finished epoch, as the log has
    /// one entry (both are rewritten from the journal together); without it, the entries count from <c>--start_epoch</c>.
    /// </summary>
    static int[] EpochNumbers(ExperimentFolder folder, TrainConfig config, int logged)
    {
        var metrics = folder.ReadMetrics();
        return metrics.Count == logged
            ? metrics.Select(m => m.Epoch).ToArray()
            : Enumerable.Range(config.StartEpoch, logged).ToArray();
    }

    static string Describe(int[] epochs) =>
        epochs.Zip(epochs.Skip(1)).All(p => p.Second == p.First + 1) ? $"{epochs[0]}..{epochs[^1]}" : string.Join(", ", epochs);

    /// <summary>
    /// Writes <paramref name="pairs"/> to <paramref name="path"/> atomically as a pickled list of <c>(str, int)</c> tuples
    /// (protocol 2: Python 2 and 3 both load it; the strings are unicode, so Python 3 needs no <c>encoding=</c>).
    /// </summary>
    public static void WritePickle(string path, IReadOnlyList<(string Path, int Cluster)> pairs)
    {
        using var pickler = new Pickler(useMemo: false);
        AtomicFile.Write(path, s => pickler.dump(Tuples(pairs), s));
    }

    /// <summary>A lazy sequence (pickled as a list) of object[] pairs (each pickled as a tuple).</summary>
    static IEnumerable<object> Tuples(IReadOnlyList<(string Path, int Cluster)> pairs)
    {
        foreach (var (p, c) in pairs) yield return new object[] { p, c };
    }
}
