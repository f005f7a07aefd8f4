using DeepCluster.Core.Data;

namespace DeepCluster.Core.Export;

/// <summary>
/// The path that stands for each image of a dataset in the exports (the features' paths file, the assignments pickle):
/// an ImageFolder's file path, as torchvision's <c>ImageFolder.imgs</c> gives it to the published code; for a pack of
/// <c>deepcluster pack</c>, the path the image had in the folder that was packed (so a pack and its folder export the
/// same paths); for IDX files, <c>IMAGES-FILE#INDEX</c> (the file has no per-image names).
/// </summary>
public static class SamplePaths
{
    /// <summary>The path of sample <paramref name="index"/>.</summary>
    public static string Of(IImageDataset dataset, int index) => dataset switch
    {
        ImageFolder f => f.Paths[index],
        PackedDataset p => p.Metadata.Source.Length > 0
            ? Path.Combine(p.Metadata.Source, p.PathOf(index).Replace('/', Path.DirectorySeparatorChar))
            : p.PathOf(index),
        SubsetDataset s => Of(s.Inner, s.Indices[index]),
        _ => dataset.Describe(index),
    };

    /// <summary>Every sample's path, in dataset order.</summary>
    public static IReadOnlyList<string> All(IImageDataset dataset)
    {
        var paths = new string[dataset.Count];
        for (int i = 0; i < paths.Length; i++) paths[i] = Of(dataset, i);
        return paths;
    }
}
