namespace DeepCluster.Core.Sampling;

/// <summary>
/// The published <c>cluster_assign</c> + <c>ReassignedDataset</c>: the pseudo-label of a dataset index for an epoch.
/// cluster_assign labels each point with its cluster's position in images_lists; ReassignedDataset then renumbers
/// the labels that occur, in ascending order (<c>label_to_idx</c> over <c>set(pseudolabels)</c>), so the labels are
/// the rank of the cluster among the non-empty ones: 0..(non-empty - 1). The classifier still has
/// len(images_lists) outputs (main.py: top_layer size = len(deepcluster.images_lists)).
/// </summary>
public sealed class PseudoLabels
{
    readonly int[] _labels;

    /// <summary>Number of classifier outputs: the number of clusters, empty ones included.</summary>
    public int NumClasses { get; }

    /// <summary>Number of non-empty clusters, i.e. of distinct labels in use.</summary>
    public int NumUsed { get; }

    /// <summary>Builds the map for a dataset of <paramref name="datasetSize"/> items.</summary>
    /// <exception cref="ArgumentException">An index is out of range or listed twice.</exception>
    public PseudoLabels(IReadOnlyList<IReadOnlyList<int>> imagesLists, int datasetSize)
    {
        _labels = new int[datasetSize];
        Array.Fill(_labels, -1);
        int label = 0;
        foreach (var cluster in imagesLists)
        {
            if (cluster.Count == 0) continue;
            foreach (var i in cluster)
            {
                if (i < 0 || i >= datasetSize) throw new ArgumentException($"index {i} outside the dataset 0..{datasetSize - 1}.", nameof(imagesLists));
                if (_labels[i] != -1) throw new ArgumentException($"index {i} is in two clusters.", nameof(imagesLists));
                _labels[i] = label;
            }
            label++;
        }
        NumClasses = imagesLists.Count;
        NumUsed = label;
    }

    /// <summary>The pseudo-label of dataset index <paramref name="index"/>, or -1 when no cluster lists it.</summary>
    public int this[int index] => _labels[index];

    /// <summary>Every dataset index's pseudo-label (-1 for unlisted ones).</summary>
    public IReadOnlyList<int> All => _labels;
}
