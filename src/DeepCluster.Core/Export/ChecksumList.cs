namespace DeepCluster.Core.Export;

/// <summary>
/// A list of SHA-256 checksums in the format <c>sha256sum</c> writes and <c>sha256sum -c</c> reads: one
/// <c>HASH  PATH</c> (or <c>HASH *PATH</c>) a line, PATH relative to the models folder ('/'-separated, e.g.
/// <c>alexnet/checkpoint.pth.tar</c>); blank lines and lines starting with '#' are ignored.
/// </summary>
public static class ChecksumList
{
    /// <summary>The checksums of <paramref name="path"/>, by relative path.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">A line that is not <c>HASH  PATH</c> with a 64-digit hex hash; names the file and line.</exception>
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--checksums {path}: no such file.", path);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var space = line.IndexOfAny([' ', '\t']);
            var hash = space < 0 ? line : line[..space];
            var file = space < 0 ? "" : line[(space + 1)..].TrimStart(' ', '\t').TrimStart('*').Replace('\\', '/');
            if (hash.Length != 64 || !hash.All(Uri.IsHexDigit) || file.Length == 0)
                throw new InvalidDataException($"--checksums {path}: line {i + 1} is not 'SHA256  PATH' (a 64-digit hex hash, two spaces, a path like alexnet/checkpoint.pth.tar).");
            result[file.StartsWith("./", StringComparison.Ordinal) ? file[2..] : file] = hash.ToLowerInvariant();
        }
        return result;
    }
}
