using DeepCluster.Actors.DataLoading;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Training;
using static TorchSharp.torch;

namespace DeepCluster.Actors.Features;

/// <summary>
/// The computation of the feature pass (main.py's <c>compute_features</c>) on one batch: the model of a saved file in
/// eval mode, head removed and the classifier's last ReLU dropped. Loads the weights from the file, so it shares no
/// state with the trainer and can run on any node. Building the model draws from torch's default generator (the
/// weights are then overwritten) and eval mode draws nothing, so computing features changes nothing downstream
/// however often it is repeated.
/// </summary>
public sealed class FeatureRows : IDisposable
{
    readonly DeepClusterNet model;
    readonly Device device;
    readonly Precision precision;

    FeatureRows(DeepClusterNet model, Device device, Precision precision)
    {
        this.model = model;
        this.device = device;
        this.precision = precision;
    }

    /// <summary>
    /// Loads the trunk of <paramref name="modelPath"/> on <paramref name="device"/> (null: the default), to compute in
    /// <paramref name="precision"/> (bf16: under autocast, the rows still float32).
    /// </summary>
    public static FeatureRows Load(string modelPath, string arch, bool sobel, string? device, Precision precision = Precision.Fp32)
    {
        var d = TorchRuntime.ResolveDevice(device);
        Bf16Support.Require(precision, d);
        var model = ModelFiles.LoadModel(modelPath, arch, sobel, d);
        model.eval();
        return new FeatureRows(model, d, precision);
    }

    /// <summary>Features per image.</summary>
    public int Dim => model.FeatureDim;

    /// <summary>The side of the square images the model takes.</summary>
    public int InputSize => model.InputSize;

    /// <summary>
    /// The feature rows (row-major, <see cref="Dim"/> floats each) of the <paramref name="expected"/> images
    /// <paramref name="first"/>.. that <paramref name="batch"/> was made from. An image the loader skipped
    /// (--skip-bad-files) keeps its row, filled with the batch's mean feature, so that row i is always image i.
    /// Returns how many rows were filled so in <paramref name="skipped"/>.
    /// </summary>
    public float[] Compute(BatchLoaded batch, int first, int expected, out int skipped)
    {
        float[] rows;
        using (var scope = NewDisposeScope())
        using (inference_mode())
        {
            var x = batch.ImagesTensor().to(device);        // a view of the batch's array (no copy)
            Tensor h;
            using (Autocast.Enter(device, precision)) h = model.Embed(x);
            rows = h.to(float32).to(CPU).contiguous().data<float>().ToArray();
        }
        skipped = expected - batch.Indices.Length;
        return skipped == 0 ? rows : FillSkipped(rows, batch.Indices, first, expected);
    }

    static float[] FillSkipped(float[] rows, int[] indices, int first, int expected)
    {
        int d = rows.Length / Math.Max(1, indices.Length);
        var mean = new float[d];
        for (int r = 0; r < indices.Length; r++)
            for (int j = 0; j < d; j++) mean[j] += rows[r * d + j] / indices.Length;
        var full = new float[expected * d];
        for (int p = 0; p < expected; p++) mean.CopyTo(full, p * d);
        for (int r = 0; r < indices.Length; r++) Array.Copy(rows, r * d, full, (indices[r] - first) * d, d);
        return full;
    }

    public void Dispose() => model.Dispose();
}
