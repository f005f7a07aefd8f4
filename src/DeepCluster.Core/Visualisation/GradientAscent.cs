using DeepCluster.Core.Data;
using static TorchSharp.torch;

namespace DeepCluster.Core.Visualisation;

/// <summary>
/// The published <c>visu/gradient_ascent.py</c>: for each filter f of a conv layer, an image is started from noise
/// N(0, 1)·20 + 128 (divided by 255, as the torchvision <c>ToTensor</c> of that code does to a float array; no ImageNet
/// normalisation) and changed <c>niter</c> times by gradient ascent on
/// <c>−CrossEntropy(mean_hw(layer output), f) − wd·‖x‖²</c>: the layer's filters, spatially averaged, are the logits, and
/// f must win against the others. Each step adds <c>lr · g / (‖g‖ + 1e-8)</c>; after steps 0, step, 2·step, … the image is
/// blurred with σ (<see cref="GaussianBlur"/>). The layer output is taken after the ReLU, unless filter f's is all zero
/// there (a dead filter), checked at every iteration: then the conv output before BatchNorm and ReLU is used, as the
/// published <c>forward</c> does. The final image is deprocessed (<see cref="Deprocess"/>).
/// </summary>
/// <remarks>
/// Several filters are optimised at once, one image each in a batch: the model is in eval mode, so images never
/// interact; the loss is summed, not averaged, over the batch and each image's gradient is normalised on its own, so
/// every filter follows exactly the path it would alone.
/// </remarks>
public sealed class GradientAscent
{
    readonly LayerTap tap;
    readonly GradientAscentSettings settings;
    readonly Device device;
    readonly GaussianBlur blur;

    public GradientAscent(LayerTap tap, GradientAscentSettings settings, Device device)
    {
        settings.Validate();
        this.tap = tap;
        this.settings = settings;
        this.device = device;
        blur = new GaussianBlur(settings.Sigma);
    }

    /// <summary>
    /// Filter <paramref name="filter"/>'s starting image, 3 × side × side channel-major: N(0, 1) drawn in the published
    /// (H, W, 3) order from a stream that depends only on <paramref name="seed"/> and the filter, ·20 + 128, /255.
    /// </summary>
    public static float[] Noise(long seed, int filter, int side)
    {
        int plane = side * side;
        var chw = new float[3 * plane];
        var rng = SampleRng.For(seed, 0, filter);
        double? spare = null;
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
            {
                double n;
                if (spare is double s) { n = s; spare = null; }
                else
                {
                    // Box–Muller: two normal values from two uniform ones.
                    double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble(), r = Math.Sqrt(-2.0 * Math.Log(u1));
                    n = r * Math.Cos(2 * Math.PI * u2);
                    spare = r * Math.Sin(2 * Math.PI * u2);
                }
                chw[c * plane + i] = (float)(n * 20 + 128) / 255f;
            }
        return chw;
    }

    /// <summary>
    /// Runs one forward pass on a blank image of the chosen side, so a side too small for the layer is one clear line
    /// before any work.
    /// </summary>
    /// <exception cref="ArgumentException">The layer cannot be computed from an image of <see cref="GradientAscentSettings.ImageSize"/>.</exception>
    public void CheckImageSize()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        try
        {
            tap.Forward(zeros(1, 3, settings.ImageSize, settings.ImageSize, device: device));
        }
        catch (System.Runtime.InteropServices.ExternalException)
        {
            throw new ArgumentException($"--idim {settings.ImageSize}: too small for conv {tap.Conv} of {tap.Model.Arch} " +
                                        $"(its input shrinks to nothing before that layer); try --idim {tap.Model.InputSize}.");
        }
    }

    /// <summary>
    /// Visualises <paramref name="filters"/>, <see cref="GradientAscentSettings.Batch"/> at a time, yielding each filter
    /// when its batch is done. <paramref name="progress"/> gets the iterations done and the total, over all filters' batches.
    /// </summary>
    public IEnumerable<FilterVisualisation> Run(IReadOnlyList<int> filters, Action<long, long>? progress = null, CancellationToken ct = default)
    {
        int batches = (filters.Count + settings.Batch - 1) / settings.Batch;
        long total = (long)batches * settings.Iterations;
        for (int b = 0; b < batches; b++)
        {
            var chunk = filters.Skip(b * settings.Batch).Take(settings.Batch).ToArray();
            long before = (long)b * settings.Iterations;
            foreach (var result in Optimise(chunk, it => progress?.Invoke(before + it, total), ct)) yield return result;
        }
    }

    /// <summary>Optimises one image per filter of <paramref name="filters"/> together; <paramref name="onIteration"/> gets the iterations done.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A filter outside the layer.</exception>
    public FilterVisualisation[] Optimise(IReadOnlyList<int> filters, Action<int>? onIteration = null, CancellationToken ct = default)
    {
        foreach (var f in filters)
            if ((uint)f >= (uint)tap.Channels)
                throw new ArgumentOutOfRangeException(nameof(filters), f, $"filter {f}: conv {tap.Conv} has filters 0 to {tap.Channels - 1}.");
        int n = filters.Count, side = settings.ImageSize, plane = 3 * side * side, iterations = settings.Iterations;
        var start = new float[n * plane];
        for (int i = 0; i < n; i++) Noise(settings.Seed, filters[i], side).CopyTo(start, i * plane);
        var objective = new float[n, iterations + 1];
        var activation = new float[n, iterations + 1];
        var preRelu = new int[n];
        using var targets = tensor(filters.Select(f => (long)f).ToArray(), device: device);
        var img = tensor(start, [n, 3, side, side], device: device);
        try
        {
            for (int it = 0; it <= iterations; it++)
            {
                ct.ThrowIfCancellationRequested();
                Tensor next;
                using (var scope = NewDisposeScope())
                {
                    bool last = it == iterations;    // the final image: its objective is recorded, no step is taken
                    var x = img.detach().requires_grad_(!last);
                    Tensor logp, act;
                    bool[] dead;
                    using (last ? no_grad() : null)
                    {
                        (logp, act, dead) = Objective(x, targets);
                    }
                    Record(it, logp, act);
                    for (int i = 0; i < n; i++) if (dead[i] && !last) preRelu[i]++;
                    if (last) break;
                    var norm2 = x.square().sum([1, 2, 3]);
                    (logp - settings.Wd * norm2).sum().backward();
                    var g = x.grad!;
                    var length = g.square().sum([1, 2, 3], keepdim: true).sqrt();
                    next = img + settings.Lr * (g / (length + 1e-8));
                    if (it % settings.Step == 0) next = blur.Apply(next);
                    next = next.detach().MoveToOuterDisposeScope();
                }
                img.Dispose();
                img = next;
                onIteration?.Invoke(it + 1);
            }
            var final = img.cpu().data<float>().ToArray();
            return filters.Select((f, i) => new FilterVisualisation(
                f, Deprocess.ToImage(final.AsSpan(i * plane, plane), side, side),
                Row(objective, i), Row(activation, i), preRelu[i])).ToArray();
        }
        finally { img.Dispose(); }

        void Record(int it, Tensor logp, Tensor act)
        {
            var l = logp.detach().cpu().data<float>().ToArray();
            var a = act.detach().cpu().data<float>().ToArray();
            for (int i = 0; i < n; i++) { objective[i, it] = l[i]; activation[i, it] = a[i]; }
        }
    }

    /// <summary>
    /// The objective of each image (its target's log-softmax over the layer's spatially averaged filters), the target's
    /// spatially averaged activation, and whether the target was dead after its ReLU (so both come from the conv output).
    /// </summary>
    (Tensor LogP, Tensor Activation, bool[] Dead) Objective(Tensor x, Tensor targets)
    {
        var (conv, relu) = tap.Forward(x);
        var index = targets.unsqueeze(1);
        // The published out.mean(3).mean(2): the mean over width, then over height.
        var pooledRelu = relu.mean([3]).mean([2]);
        var deadMask = pooledRelu.gather(1, index).eq(0);
        var logits = where(deadMask, conv.mean([3]).mean([2]), pooledRelu);
        var logp = logits.log_softmax(1).gather(1, index).squeeze(1);
        var act = logits.gather(1, index).squeeze(1);
        var dead = deadMask.squeeze(1).cpu().data<bool>().ToArray();
        return (logp, act, dead);
    }

    static float[] Row(float[,] values, int row)
    {
        var r = new float[values.GetLength(1)];
        for (int j = 0; j < r.Length; j++) r[j] = values[row, j];
        return r;
    }
}
