using TorchSharp;

namespace DeepCluster.Core.Data;

/// <summary>
/// One batch from <see cref="BatchLoader"/>. The consumer owns it: dispose it when done. Its image tensor may be a view
/// of a pooled array (<see cref="BatchBufferPool"/>), which disposing gives back: keep no tensor over
/// <see cref="Images"/> past it (a result computed from it is a tensor of its own).
/// </summary>
public sealed class Batch : IDisposable
{
    float[]? buffer;

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

    /// <summary>
    /// Creates a batch; takes ownership of the tensors, and of <paramref name="imageBuffer"/>, the rented array that
    /// <paramref name="images"/> is a view of (null: the tensor owns its memory).
    /// </summary>
    public Batch(int number, torch.Tensor images, torch.Tensor labels, int[] indices, int[] positions, int skipped,
                 float[]? imageBuffer = null)
    {
        Number = number; Images = images; Labels = labels; Indices = indices; Positions = positions; Skipped = skipped;
        buffer = imageBuffer;
    }

    /// <summary>
    /// The images as a flat array of <see cref="Images"/>' shape, handed over to the caller without a copy when the
    /// batch was decoded into a pooled array (give it back with <see cref="BatchBufferPool.ReturnToOwner"/>), else a
    /// copy. Disposes <see cref="Images"/>: call it once, then use only the array (and <see cref="Labels"/>).
    /// </summary>
    public float[] TakeImages()
    {
        var taken = buffer ?? Images.data<float>().ToArray();
        buffer = null;
        Images.Dispose();                                   // unpins the array: the tensor was its only view
        return taken;
    }

    /// <summary>Frees both tensors and gives the image array back to its pool.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        BatchBufferPool.ReturnToOwner(buffer);
        buffer = null;
    }
}
