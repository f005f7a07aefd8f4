using DeepCluster.Core.Data;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// The training and test splits of a labelled dataset for an evaluation: an ImageFolder root with <c>train/</c> and
/// <c>val/</c> (ImageNet or Places layout, the same class folders in both), or a folder of MNIST/Fashion-MNIST IDX files
/// (train → t10k).
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
        string trainDir = Path.Combine(data, "train"), valDir = Path.Combine(data, "val");
        foreach (var (dir, name) in new[] { (trainDir, "train"), (valDir, "val") })
            if (!Directory.Exists(dir))
                throw new DirectoryNotFoundException($"--data {data}: no {name}/ folder (expected {name}/CLASS/IMAGE for an ImageFolder dataset, " +
                                                     "or the IDX files train-*-ubyte and t10k-*-ubyte).");
        var trainSet = new ImageFolder(trainDir, skipBadFiles);
        var valSet = new ImageFolder(valDir, skipBadFiles);
        var missingInVal = trainSet.Classes.Except(valSet.Classes).ToList();
        var missingInTrain = valSet.Classes.Except(trainSet.Classes).ToList();
        if (missingInVal.Count > 0 || missingInTrain.Count > 0)
            throw new InvalidDataException($"--data {data}: train/ and val/ must hold the same class folders; " +
                string.Join("; ", new[] { (missingInVal, "val/"), (missingInTrain, "train/") }.Where(p => p.Item1.Count > 0)
                    .Select(p => $"missing from {p.Item2}: {string.Join(", ", p.Item1.Take(5))}{(p.Item1.Count > 5 ? $" and {p.Item1.Count - 5} more" : "")}")) + ".");
        return new EvalDatasets(trainSet, valSet, trainSet.Classes, "imagefolder");
    }
}
