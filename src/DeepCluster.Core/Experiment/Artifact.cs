using System.IO.Hashing;

namespace DeepCluster.Core.Experiment;

/// <summary>
/// A durable file of an experiment as the journal records it: its path relative to the experiment folder (so a moved
/// or copied folder uses its own files), its size and an xxHash3 checksum of its content. A file is used, or reported
/// done, only when it still matches.
/// </summary>
public sealed record Artifact(string Path, long Size, string Hash)
{
    /// <summary>Records the file at <paramref name="fullPath"/> (inside <paramref name="folder"/>) as it is now.</summary>
    public static Artifact Of(ExperimentFolder folder, string fullPath)
    {
        var (size, hash) = Measure(fullPath);
        return new Artifact(folder.Relative(fullPath), size, hash);
    }

    /// <summary>Size and xxHash3 (hex) of a file's content.</summary>
    public static (long Size, string Hash) Measure(string fullPath)
    {
        using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var hasher = new XxHash3();
        hasher.Append(stream);
        return (stream.Length, hasher.GetCurrentHashAsUInt64().ToString("x16"));
    }

    /// <summary>
    /// Why the file at <paramref name="fullPath"/> is not this artifact (missing, another size, another checksum), or
    /// null when it is intact.
    /// </summary>
    public string? ProblemAt(string fullPath)
    {
        if (!File.Exists(fullPath)) return "missing";
        var length = new FileInfo(fullPath).Length;
        if (length != Size) return $"{length} bytes, the journal recorded {Size}";
        try { return Measure(fullPath).Hash == Hash ? null : "its checksum differs from the journal's"; }
        catch (IOException e) { return $"unreadable ({e.Message})"; }
        catch (UnauthorizedAccessException e) { return $"unreadable ({e.Message})"; }
    }

    /// <summary>The same check for the artifact's own place in <paramref name="folder"/>.</summary>
    public string? Problem(ExperimentFolder folder) => ProblemAt(folder.Resolve(Path));
}
