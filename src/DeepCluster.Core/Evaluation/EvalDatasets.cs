using DeepCluster.Core.Data;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// The training and test splits of a labelled dataset for an evaluation: an ImageFolder root with <c>train/</c> and
/// <c>val/</c> (ImageNet or Places layout, the same class folders in both), or a folder of MNIST/Fashion-MNIST IDX files
/// (train → t10k). Either split may be a pack of <c>deepcluster pack</c> instead (<c>train.dcpack</c>, <c>val.dcpack</c>
/// beside or in place of the folders; a folder wins): the evaluation's own Resize then applies to the packed image, as
/// FFCV does, so a pack with <c>--max-side</c> at least the evaluation's resize loses nothing the resize keeps.
/// </summary>
public sealed record EvalDatasets(IImageDataset Train, IImageDataset Test, IReadOnlyList<string> Classes, string Layout)
{
    /// <summary>Opens <paramref name="data"/>; a missing split or a class missing from one split is one clear line.</summary>
    public static EvalDatasets Open(string data, bool skipBadFiles = false)
    {
        if (!Directory.Exists(data)) throw new DirectoryNotFoundException($"--data {data}: dataset folder not found.");
        if (DatasetSource.IsIdxFolder(data, "train") || DatasetSource.IsIdxFolder(data, "t10k"))
        {
            foreach (var split in new[] { "train", "t10k" })
                if (!DatasetSource.IsIdxFolder(data, split))
                    throw new FileNotFoundException($"--data {data}: an IDX dataset without its {(split == "train" ? "training" : "test")} split " +
                                                    $"({split}-images-idx3-ubyte[.gz] is missing).");
            var train = IdxDataset.FromFolder(data, "train");
            var test = IdxDataset.FromFolder(data, "t10k");
            var classes = train.Classes.Count >= test.Classes.Count ? train.Classes : test.Classes;
            if (train.Count == 0 || test.Count == 0) throw new InvalidDataException($"--data {data}: the {(train.Count == 0 ? "train" : "t10k")} split has no images.");
            return new EvalDatasets(train, test, classes, "idx");
        }
        var trainSet = Split(data, "train", skipBadFiles);
        var valSet = Split(data, "val", skipBadFiles);
        var missingInVal = trainSet.Classes.Except(valSet.Classes).ToList();
        var missingInTrain = valSet.Classes.Except(trainSet.Classes).ToList();
        if (missingInVal.Count > 0 || missingInTrain.Count > 0)
            throw new InvalidDataException($"--data {data}: train/ and val/ must hold the same class folders; " +
                string.Join("; ", new[] { (missingInVal, "val/"), (missingInTrain, "train/") }.Where(p => p.Item1.Count > 0)
                    .Select(p => $"missing from {p.Item2}: {string.Join(", ", p.Item1.Take(5))}{(p.Item1.Count > 5 ? $" and {p.Item1.Count - 5} more" : "")}")) + ".");
        return new EvalDatasets(trainSet, valSet, trainSet.Classes,
                                trainSet is PackedDataset || valSet is PackedDataset ? "pack" : "imagefolder");
    }

    /// <summary>The split <paramref name="name"/>: the folder <c>NAME/</c>, else the pack <c>NAME.dcpack</c>.</summary>
    static IImageDataset Split(string data, string name, bool skipBadFiles)
    {
        var dir = Path.Combine(data, name);
        if (Directory.Exists(dir)) return new ImageFolder(dir, skipBadFiles);
        var pack = Path.Combine(data, name + PackFormat.Extension);
        if (File.Exists(pack)) return PackedDataset.Open(pack);
        throw new DirectoryNotFoundException($"--data {data}: no {name}/ folder (expected {name}/CLASS/IMAGE for an ImageFolder dataset, " +
                                             $"a pack {name}{PackFormat.Extension}, or the IDX files train-*-ubyte and t10k-*-ubyte).");
    }
}
