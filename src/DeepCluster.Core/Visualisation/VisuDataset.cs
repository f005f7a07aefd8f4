using DeepCluster.Core.Data;

namespace DeepCluster.Core.Visualisation;

/// <summary>
/// The <c>--data</c> of <c>visu top-images</c>: an ImageFolder (<c>DIR/CLASS/IMAGE</c>, as the published script reads it),
/// a pack of <c>deepcluster pack</c>, or a folder of MNIST/Fashion-MNIST IDX files (the training split). Every way it
/// can be wrong is one line naming <c>--data</c>.
/// </summary>
public static class VisuDataset
{
    /// <exception cref="DirectoryNotFoundException">No such folder or pack.</exception>
    /// <exception cref="InvalidDataException">A folder without images, or images not in class folders.</exception>
    public static IImageDataset Open(string data)
    {
        if (!Directory.Exists(data) && !File.Exists(data))
            throw new DirectoryNotFoundException($"--data {data}: no such folder or pack file.");
        if (Directory.Exists(data) && !DatasetSource.IsIdxFolder(data, "train"))
        {
            bool IsImage(string f) => ImageFolder.Extensions.Contains(Path.GetExtension(f).ToLowerInvariant());
            var images = Directory.EnumerateFiles(data, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true });
            if (!images.Any(IsImage))
                throw new InvalidDataException($"--data {data}: no images in this folder (expected {data}/CLASS/IMAGE files ending in " +
                                               $"{string.Join(" ", ImageFolder.Extensions)}, a pack file, or MNIST IDX files).");
            if (!Directory.EnumerateDirectories(data).Any())
                throw new InvalidDataException($"--data {data}: the images must be in class sub-folders ({data}/CLASS/IMAGE), as for an ImageFolder.");
        }
        try
        {
            return DatasetSource.Open(data);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or IOException && !e.Message.StartsWith("--data", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"--data {data}: {e.Message}", e);
        }
    }
}
