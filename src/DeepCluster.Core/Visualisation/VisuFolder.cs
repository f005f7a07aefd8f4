using System.Globalization;
using System.Text;
using System.Text.Json;
using DeepCluster.Core.Data;
using DeepCluster.Core.Evaluation;
using DeepCluster.Core.IO;

namespace DeepCluster.Core.Visualisation;

/// <summary>
/// Where the visualisations of one layer go: <c>EXP/convN/</c>, as in the published scripts. Gradient ascent writes
/// <c>layerN-channelF.png</c> per filter (the published name, PNG instead of JPEG), <c>layerN-grid.png</c> with all of
/// them and <c>gradient-ascent.json</c>; top-images writes <c>layerN-channelF-top.png</c> (a grid of the filter's top
/// images, best first, row by row), <c>top-images.json</c> and <c>top-images.txt</c>. The two never overwrite each other.
/// </summary>
public sealed class VisuFolder
{
    static readonly JsonSerializerOptions Json = new(LinearEvalFolder.Json)
    {
        WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The <c>--exp</c> folder.</summary>
    public string Root { get; }
    /// <summary>The conv layer, 1-based.</summary>
    public int Conv { get; }
    /// <summary><c>EXP/convN</c>.</summary>
    public string LayerDir => Path.Combine(Root, $"conv{Conv}");

    public VisuFolder(string root, int conv)
    {
        Root = Path.GetFullPath(root);
        Conv = conv;
    }

    public string FilterImagePath(int filter) => Path.Combine(LayerDir, $"layer{Conv}-channel{filter}.png");
    public string GridPath => Path.Combine(LayerDir, $"layer{Conv}-grid.png");
    public string AscentJsonPath => Path.Combine(LayerDir, "gradient-ascent.json");
    public string TopGridPath(int filter) => Path.Combine(LayerDir, $"layer{Conv}-channel{filter}-top.png");
    public string TopJsonPath => Path.Combine(LayerDir, "top-images.json");
    public string TopTextPath => Path.Combine(LayerDir, "top-images.txt");

    /// <summary>Creates <c>EXP/convN</c>; an <c>--exp</c> that is a file is refused.</summary>
    public void Prepare()
    {
        if (File.Exists(Root)) throw new ArgumentException($"--exp {Root}: is a file; give a folder for the pictures.");
        Directory.CreateDirectory(LayerDir);
    }

    /// <summary>Writes filter <paramref name="v"/>'s picture.</summary>
    public void WriteFilter(FilterVisualisation v) => ImageCodec.SavePng(v.Image, FilterImagePath(v.Filter));

    /// <summary>Writes the grid of all <paramref name="done"/> pictures (in filter order) and <c>gradient-ascent.json</c>.</summary>
    public void WriteAscent(string? model, string arch, GradientAscentSettings settings, IReadOnlyList<FilterVisualisation> done)
    {
        var sorted = done.OrderBy(v => v.Filter).ToArray();
        if (sorted.Length > 0) ImageCodec.SavePng(ImageGrid.Compose(sorted.Select(v => v.Image).ToArray()), GridPath);
        var doc = new
        {
            Model = model, Arch = arch, Conv, settings.Lr, settings.Wd, Sig = settings.Sigma, settings.Step, Niter = settings.Iterations,
            Idim = settings.ImageSize, settings.Seed, Grid = sorted.Length > 0 ? Path.GetFileName(GridPath) : null,
            Filters = sorted.Select(v => new
            {
                v.Filter, Image = Path.GetFileName(FilterImagePath(v.Filter)),
                ObjectiveStart = v.Objective[0], ObjectiveEnd = v.Objective[^1],
                ActivationStart = v.Activation[0], ActivationEnd = v.Activation[^1], v.PreReluIterations,
            }),
        };
        AtomicFile.Write(AscentJsonPath, s => JsonSerializer.Serialize(s, doc, Json));
    }

    /// <summary>
    /// Writes each filter's grid of top images (<paramref name="tile"/> gives an image's picture by dataset index),
    /// <c>top-images.json</c> and <c>top-images.txt</c>; <paramref name="onFilter"/> is told of each filter written.
    /// </summary>
    public void WriteTop(string? model, string arch, string data, int top, IReadOnlyList<FilterTopImages> filters,
                         Func<int, RgbImage> tile, Action<int>? onFilter = null, CancellationToken ct = default)
    {
        var text = new StringBuilder();
        text.AppendLine($"{arch} conv{Conv}: the {top} images of {data} with the largest spatially averaged activation, per filter");
        foreach (var f in filters)
        {
            ct.ThrowIfCancellationRequested();
            if (f.Images.Count > 0)
                ImageCodec.SavePng(ImageGrid.Compose(f.Images.Select(i => tile(i.Index)).ToArray()), TopGridPath(f.Filter));
            text.AppendLine($"filter {f.Filter}");
            foreach (var (image, rank) in f.Images.Select((image, rank) => (image, rank)))
                text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {rank + 1,3} {image.Score,12:G6}  {image.Path}"));
            onFilter?.Invoke(f.Filter);
        }
        var doc = new
        {
            Model = model, Arch = arch, Conv, Data = data, Top = top,
            Filters = filters.Select(f => new
            {
                f.Filter, Grid = f.Images.Count > 0 ? Path.GetFileName(TopGridPath(f.Filter)) : null,
                Images = f.Images.Select(i => new { i.Index, i.Path, i.Score }),
            }),
        };
        AtomicFile.Write(TopJsonPath, s => JsonSerializer.Serialize(s, doc, Json));
        AtomicFile.Write(TopTextPath, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text.ToString()); });
    }
}
