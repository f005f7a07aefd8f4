namespace DeepCluster.Core.Models;

/// <summary>One file of a released DeepCluster model.</summary>
/// <param name="Arch">alexnet or vgg16.</param>
/// <param name="Format">pytorch (a checkpoint) or caffe (prototxt + caffemodel).</param>
/// <param name="RelativePath">Where it lies under the base URL and under the models folder ('/'-separated), as the
/// published <c>download_model.sh</c> lays it out: <c>ARCH/FILE</c>.</param>
/// <param name="Sha256">Its SHA-256 in lower-case hex, or null where it is not known (see <see cref="ReleasedModels"/>).</param>
/// <param name="Size">Its size in bytes, or null where it is not known.</param>
public sealed record ReleasedFile(string Arch, string Format, string RelativePath, string? Sha256 = null, long? Size = null)
{
    /// <summary>The file's URL under <paramref name="baseUrl"/> (with or without a trailing '/').</summary>
    public Uri UrlUnder(string baseUrl) => new(baseUrl.TrimEnd('/') + "/" + RelativePath);

    /// <summary>Where the file goes under the models folder <paramref name="root"/>.</summary>
    public string PathUnder(string root) => Path.Combine(root, RelativePath.Replace('/', Path.DirectorySeparatorChar));
}

/// <summary>
/// The released DeepCluster models: the one place that lists their URLs. The published project serves them under
/// <see cref="DefaultBaseUrl"/> (its README and <c>download_model.sh</c>; they were first under
/// <c>https://s3.amazonaws.com/deepcluster</c>), as <c>ARCH/checkpoint.pth.tar</c> (PyTorch, RGB input in [0, 1] then
/// ImageNet-normalised) and <c>ARCH/model.prototxt</c> + <c>ARCH/model.caffemodel</c> (Caffe, BGR input in [0, 255]), for
/// ARCH alexnet and vgg16, all with Sobel.
/// </summary>
/// <remarks>
/// Checksums: the published project lists none, and these files could not be downloaded where this port was written,
/// so <see cref="ReleasedFile.Sha256"/> and <see cref="ReleasedFile.Size"/> are null for every file: no value is made
/// up. A download of such a file is checked against the size the server announces (and must be whole), and its SHA-256
/// is printed so that it can be recorded; <c>deepcluster models download --checksums FILE</c> (lines of
/// <c>sha256sum</c>: <c>HASH  alexnet/checkpoint.pth.tar</c>) verifies against a list the user trusts. Fill a hash in
/// here once it is known from a trusted download.
/// </remarks>
public static class ReleasedModels
{
    /// <summary>Where the published project serves its models.</summary>
    public const string DefaultBaseUrl = "https://dl.fbaipublicfiles.com/deepcluster";

    /// <summary>The environment variable that overrides <see cref="DefaultBaseUrl"/> (a mirror, or a test's local server).</summary>
    public const string BaseUrlVariable = "DEEPCLUSTER_MODELS_URL";

    /// <summary>The environment variable naming the models folder, as in <c>download_model.sh</c>.</summary>
    public const string FolderVariable = "DEEPCLUSTER_MODELS";

    /// <summary>The architectures released.</summary>
    public static readonly string[] Architectures = ["alexnet", "vgg16"];

    /// <summary>The formats released.</summary>
    public static readonly string[] Formats = ["pytorch", "caffe"];

    /// <summary>Every released file, in <c>download_model.sh</c>'s order within each architecture's format.</summary>
    public static readonly IReadOnlyList<ReleasedFile> Files =
    [
        new("alexnet", "pytorch", "alexnet/checkpoint.pth.tar"),
        new("alexnet", "caffe", "alexnet/model.caffemodel"),
        new("alexnet", "caffe", "alexnet/model.prototxt"),
        new("vgg16", "pytorch", "vgg16/checkpoint.pth.tar"),
        new("vgg16", "caffe", "vgg16/model.caffemodel"),
        new("vgg16", "caffe", "vgg16/model.prototxt"),
    ];

    /// <summary>The files of <paramref name="arch"/> in <paramref name="format"/> (null: every architecture / format).</summary>
    /// <exception cref="ArgumentException">An architecture or format that was not released; names the flag.</exception>
    public static IReadOnlyList<ReleasedFile> Select(string? arch, string? format)
    {
        if (arch is not null && !Architectures.Contains(arch))
            throw new ArgumentException($"--arch {arch}: no such released model; choose {string.Join(" or ", Architectures)}.");
        if (format is not null && !Formats.Contains(format))
            throw new ArgumentException($"--format {format}: no such released format; choose {string.Join(" or ", Formats)}.");
        return Files.Where(f => (arch is null || f.Arch == arch) && (format is null || f.Format == format)).ToList();
    }

    /// <summary>The models folder: <paramref name="given"/>, else <c>$DEEPCLUSTER_MODELS</c>, else <c>~/deepcluster_models</c>.</summary>
    public static string Folder(string? given = null)
    {
        if (!string.IsNullOrEmpty(given)) return Path.GetFullPath(given);
        if (Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } env) return Path.GetFullPath(env);
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "deepcluster_models");
    }

    /// <summary>The base URL: <paramref name="given"/>, else <c>$DEEPCLUSTER_MODELS_URL</c>, else <see cref="DefaultBaseUrl"/>.</summary>
    /// <exception cref="ArgumentException">Not an absolute http(s) URL.</exception>
    public static string BaseUrl(string? given = null)
    {
        var (url, source) = !string.IsNullOrEmpty(given) ? (given, "--base-url")
            : Environment.GetEnvironmentVariable(BaseUrlVariable) is { Length: > 0 } env ? (env, "$" + BaseUrlVariable)
            : (DefaultBaseUrl, "the default base URL");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"{source} {url}: not an http:// or https:// URL.");
        return url.TrimEnd('/');
    }
}
