using System.Collections;
using Razorvine.Pickle;

namespace DeepCluster.Core.IO;

/// <summary>
/// The DeepCluster <c>clusters</c> log: a Python pickle of a list over epochs, each a list of k clusters,
/// each a list of dataset indices (Python ints), as <c>pickle.dump(cluster_log, f)</c> writes it in main.py.
/// </summary>
public static class ClustersLog
{
    /// <summary>
    /// Pickles <paramref name="epochs"/> to <paramref name="path"/> atomically (temporary file, then rename).
    /// The indices are streamed to the file, never boxed all at once, so ImageNet-sized logs fit in memory.
    /// </summary>
    public static void Write(string path, IReadOnlyList<IReadOnlyList<IReadOnlyList<int>>> epochs)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        var log = AsList(epochs, epoch => AsList(epoch, cluster => AsList(cluster, i => (object)i)));
        using var pickler = new Pickler(useMemo: false);
        AtomicFile.Write(path, s => pickler.dump(log, s));
    }

    /// <summary>One clustering's <c>images_lists</c> (k lists of dataset indices) as a pickled Python list, atomically.</summary>
    public static void WriteImagesLists(string path, IReadOnlyList<IReadOnlyList<int>> imagesLists)
    {
        ArgumentNullException.ThrowIfNull(imagesLists);
        var lists = AsList(imagesLists, cluster => AsList(cluster, i => (object)i));
        using var pickler = new Pickler(useMemo: false);
        AtomicFile.Write(path, s => pickler.dump(lists, s));
    }

    /// <summary>
    /// A lazy sequence that the Pickler writes as a Python list. Not LINQ's Select: over an empty array
    /// it returns an empty object[], which would pickle as a tuple; and never an int[], which would
    /// become a Python array.array.
    /// </summary>
    static IEnumerable<object> AsList<T>(IEnumerable<T> source, Func<T, object> map)
    {
        foreach (var item in source) yield return map(item);
    }

    /// <summary>Reads a clusters log written by <see cref="Write"/> or by Python's <c>pickle.dump</c>.</summary>
    /// <exception cref="InvalidDataException">Not a pickle, or not a list of lists of lists of ints; names the file.</exception>
    public static int[][][] Read(string path)
    {
        object root;
        try
        {
            // The whole file, scanned before unpickling: no length inside it can make the unpickler allocate more.
            var bytes = File.ReadAllBytes(path);
            PickleScanner.Validate(bytes, path);
            using var unpickler = new Unpickler();
            root = unpickler.loads(bytes);
        }
        catch (InvalidDataException e) when (e.Message.StartsWith(path, StringComparison.Ordinal)) { throw; }
        catch (Exception e) when (TorchPickle.IsDataError(e) && e is not (FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException))
        {
            throw new InvalidDataException($"{path}: not a readable clusters pickle ({e.Message}).", e);
        }
        return List(root, path, "the log").Select((epoch, e) =>
            List(epoch, path, $"epoch {e}").Select((cluster, c) =>
                List(cluster, path, $"epoch {e}, cluster {c}").Select(i => Index(i, path, e, c)).ToArray()).ToArray()).ToArray();
    }

    static IEnumerable<object?> List(object? o, string path, string what) => o switch
    {
        ArrayList l => l.Cast<object?>(),
        object[] t => t,
        _ => throw new InvalidDataException($"{path}: {what} is a {o?.GetType().Name ?? "None"}, expected a list."),
    };

    static int Index(object? o, string path, int epoch, int cluster) => o switch
    {
        int i => i,
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        _ => throw new InvalidDataException($"{path}: epoch {epoch}, cluster {cluster} holds {o ?? "None"} ({o?.GetType().Name}), expected a dataset index."),
    };
}
