using TorchSharp;

namespace DeepCluster.Core.Data;

/// <summary>
/// One batch from <see cref="BatchLoader"/>. The consumer owns it: dispose it (or its tensors) when done.
/// </summary>
public sealed class Batch : IDisposable
{
    /// <summary>Batch number in the epoch (0-based, in index-list order).</summary>
    public int Number { get; }
    /// <summary>float32 images, N x 3 x H x W (N x crops x 3 x H x W with a multi-crop transform).</summary>
    public torch.Tensor Images { get; }
    /// <summary>int64 labels, length N: the per-position labels given to the loader, else the dataset's, else -1.</summary>
    public torch.Tensor Labels { get; }
    /// <summary>Dataset index of each sample.</summary>
    public int[] Indices { get; }
    /// <summary>Position of each sample in the loader's index list.</summary>
    public int[] Positions { get; }
    /// <summary>Samples of this batch's positions left out because their file could not be decoded.</summary>
    public int Skipped { get; }
    /// <summary>Number of samples.</summary>
    public int Count => Indices.Length;

    /// <summary>Creates a batch; takes ownership of the tensors.</summary>
    public Batch(int number, torch.Tensor images, torch.Tensor labels, int[] indices, int[] positions, int skipped)
    {
        Number = number; Images = images; Labels = labels; Indices = indices; Positions = positions; Skipped = skipped;
    }

    /// <summary>Frees both tensors.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
