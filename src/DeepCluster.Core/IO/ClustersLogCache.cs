namespace DeepCluster.Core.IO;

/// <summary>
/// A run's <c>clusters</c> log kept in memory between epochs, as the published <c>main.py</c> keeps its
/// <c>cluster_log</c> list: the file is unpickled only when it is not the one this object last read or wrote (another
/// length or modification time: first use, a resume, a change made outside), so an epoch's end costs one write of the
/// log, not a read of every epoch before it as well. Not thread-safe; one per experiment.
/// </summary>
public sealed class ClustersLogCache(string path)
{
    List<int[][]>? epochs;
    long length;
    DateTime written;

    /// <summary>How many times the file was unpickled (for tests).</summary>
    public int DiskReads { get; private set; }

    /// <summary>The log's epochs, a list the caller may change; empty when there is no file.</summary>
    /// <exception cref="InvalidDataException">The file is not a clusters log (from <see cref="ClustersLog.Read"/>).</exception>
    public List<int[][]> Read()
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            epochs = null;
            return [];
        }
        if (epochs is null || file.Length != length || file.LastWriteTimeUtc != written)
        {
            epochs = null;
            var read = ClustersLog.Read(path).ToList();
            DiskReads++;
            Remember(read);
        }
        return [.. epochs!];
    }

    /// <summary>Writes the log (atomically, <see cref="ClustersLog.Write"/>) and keeps it for the next <see cref="Read"/>.</summary>
    public void Write(IReadOnlyList<int[][]> log)
    {
        epochs = null;
        ClustersLog.Write(path, log);
        Remember(log);
    }

    void Remember(IEnumerable<int[][]> log)
    {
        var file = new FileInfo(path);
        (length, written) = (file.Length, file.LastWriteTimeUtc);
        epochs = [.. log];
    }
}
