using DeepCluster.Core.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepCluster.Core.IO.Caffe;

/// <summary>
/// Loads a released DeepCluster Caffe model (<c>model.caffemodel</c>; the <c>.prototxt</c> beside it is not needed,
/// the caffemodel carries every layer) into our modules: the layout is recognised by <see cref="CaffeLayout"/>, the
/// grey 1×1 convolutions are composed into our Sobel grey conv and Caffe's BGR 0–255 input convention is folded into it
/// (<see cref="CaffeInputConvention"/>), so the model takes our normalised RGB like every other; Caffe's BatchNorm
/// (mean and variance scaled by a factor, its own eps) and Scale become our BatchNorm2d.
/// </summary>
public static class CaffeImport
{
    /// <summary>
    /// Loads <paramref name="path"/> in eval mode on the CPU, with the clustering head when <paramref name="withHead"/>
    /// and the file has one.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a caffemodel, a .prototxt, or not a DeepCluster model; one line naming the file.</exception>
    public static DeepClusterNet Load(string path, bool withHead = false)
    {
        if (CaffeNet.IsPrototxt(path))
            throw new InvalidDataException($"{path}: a Caffe network definition (text, no weights); give the .caffemodel that comes with it " +
                                           "(it carries every layer, the prototxt is not needed).");
        var layout = CaffeLayout.Analyse(CaffeNet.Read(path), path);
        var model = ModelFactory.Create(layout.Arch, layout.Sobel, withHead ? layout.Clusters ?? 0 : 0);
        try
        {
            using (NewDisposeScope())
            {
                var targets = new Dictionary<string, long[]>();
                foreach (var (name, p) in model.named_parameters()) targets[name] = p.shape;
                foreach (var (name, b) in model.named_buffers()) targets[name] = b.shape;
                var sd = StateDict(layout, model, targets, path);
                StateDictLoader.LoadInto(model, sd, strict: true, path);
            }
            model.eval();
            return model;
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or IndexOutOfRangeException && !e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            model.Dispose();
            throw new InvalidDataException($"{path}: not a DeepCluster AlexNet or VGG16 Caffe model: {e.Message.TrimEnd('.')}.", e);
        }
        catch { model.Dispose(); throw; }
    }

    /// <summary>Our state dict for <paramref name="model"/> from the layers of <paramref name="layout"/>.</summary>
    static Dictionary<string, Tensor> StateDict(CaffeLayout layout, DeepClusterNet model, Dictionary<string, long[]> targets, string path)
    {
        var modules = model.named_modules().ToList();
        List<string> Named<T>(string prefix) => modules.Where(m => m.name.StartsWith(prefix, StringComparison.Ordinal) && m.module is T)
                                                       .Select(m => m.name).ToList();
        var convs = Named<Conv2d>("features.");
        var norms = Named<BatchNorm2d>("features.");
        var linears = Named<Linear>("classifier.");
        if (model.TopLayer is not null) linears.Add("top_layer");

        var sd = new Dictionary<string, Tensor>();
        Tensor Blob(CaffeLayer layer, int index, string name, bool transposed = false)
        {
            var target = targets[name];
            var blob = layer.Blobs[index];
            var stored = transposed ? new[] { target[1], target[0] } : target;
            if (!blob.SqueezedShape.SequenceEqual(stored.SkipWhile(d => d == 1).DefaultIfEmpty(1)))
                throw new InvalidDataException($"{path}: {layer.Describe}: blob {index} has shape ({string.Join(", ", blob.Shape)}), " +
                                               $"but {name} of {model.Arch} is ({string.Join(", ", target)}).");
            var t = blob.ToTensor(stored);
            return transposed ? t.t().contiguous() : t;
        }
        Tensor BiasOf(CaffeLayer layer, string name) => layer.Blobs.Count > 1 ? Blob(layer, 1, name) : zeros(targets[name]);

        var trunkFrom = 0;
        if (layout.SobelFilter is { } sobel)
        {
            var (w, b) = ComposeGrey(layout.GreyStage);
            (sd["sobel.0.weight"], sd["sobel.0.bias"]) = CaffeInputConvention.Fold(w, b);
            sd["sobel.1.weight"] = Blob(sobel, 0, "sobel.1.weight");
            sd["sobel.1.bias"] = BiasOf(sobel, "sobel.1.bias");
        }
        else
        {
            var first = layout.Convs[0];
            (sd[convs[0] + ".weight"], sd[convs[0] + ".bias"]) =
                CaffeInputConvention.Fold(Blob(first, 0, convs[0] + ".weight"), BiasOf(first, convs[0] + ".bias"));
            trunkFrom = 1;
        }
        for (var i = trunkFrom; i < layout.Convs.Count; i++)
        {
            sd[convs[i] + ".weight"] = Blob(layout.Convs[i], 0, convs[i] + ".weight");
            sd[convs[i] + ".bias"] = BiasOf(layout.Convs[i], convs[i] + ".bias");
        }
        for (var i = 0; i < norms.Count; i++)
        {
            var n = norms[i];
            if (layout.BatchNorms.Count == 0)
            {
                // No BatchNorm in the file (folded into the convolutions): ours becomes the identity.
                sd[n + ".weight"] = ones(targets[n + ".weight"]);
                sd[n + ".bias"] = zeros(targets[n + ".bias"]);
                sd[n + ".running_mean"] = zeros(targets[n + ".running_mean"]);
                sd[n + ".running_var"] = full(targets[n + ".running_var"], 1 - CaffeLayer.DefaultEps);
                continue;
            }
            var (norm, scale) = layout.BatchNorms[i];
            // Caffe keeps mean and variance multiplied by a factor (blob 2), and adds its own eps to the variance.
            if (norm.Blobs[2].Count != 1) throw new InvalidDataException($"{norm.Describe}: its scale factor blob holds {norm.Blobs[2].Count} values, not 1");
            var factor = norm.Blobs[2].ToTensor(1).item<float>();
            var inverse = factor == 0 ? 0f : 1f / factor;
            sd[n + ".running_mean"] = Blob(norm, 0, n + ".running_mean") * inverse;
            sd[n + ".running_var"] = Blob(norm, 1, n + ".running_var") * inverse + (norm.BatchNormEps - CaffeLayer.DefaultEps);
            sd[n + ".weight"] = scale is null ? ones(targets[n + ".weight"]) : Blob(scale, 0, n + ".weight");
            sd[n + ".bias"] = scale is null ? zeros(targets[n + ".bias"]) : BiasOf(scale, n + ".bias");
        }
        for (var i = 0; i < Math.Min(linears.Count, layout.Linears.Count); i++)
        {
            var l = layout.Linears[i];
            sd[linears[i] + ".weight"] = Blob(l, 0, linears[i] + ".weight", transposed: l.InnerProduct?.Transpose == true);
            sd[linears[i] + ".bias"] = BiasOf(l, linears[i] + ".bias");
        }
        return sd;
    }

    /// <summary>The 1×1 convolutions of the grey stage composed into one (1, 3, 1, 1) convolution, in float64.</summary>
    static (Tensor Weight, Tensor Bias) ComposeGrey(IReadOnlyList<CaffeLayer> stage)
    {
        Tensor? w = null, b = null;
        foreach (var layer in stage)
        {
            var d = CaffeLayout.Dims(layer.Blobs[0], 4);
            var wi = layer.Blobs[0].ToTensor(d[0], d[1]).to(ScalarType.Float64);
            var bi = layer.Blobs.Count > 1 ? layer.Blobs[1].ToTensor(d[0]).to(ScalarType.Float64) : zeros(d[0], ScalarType.Float64);
            (w, b) = w is null ? (wi, bi) : (wi.matmul(w), wi.matmul(b!) + bi);
        }
        return (w!.view(1, 3, 1, 1), b!);
    }
}
