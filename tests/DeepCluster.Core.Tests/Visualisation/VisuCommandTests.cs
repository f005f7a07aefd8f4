using System.Text.Json;
using DeepCluster.Core.Data;
using DeepCluster.Core.IO;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Visualisation;

/// <summary>`deepcluster visu gradient-ascent` and `visu top-images` through the command line.</summary>
[Collection("Console")]
public class VisuCommandTests
{
    public VisuCommandTests() => TorchRuntime.EnsureLoaded();

    static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    /// <summary>
    /// An alexnet_small whose conv1 filter 0 responds to red (+1 on R, −1 on G and B at every tap), filter 1 to blue,
    /// filter 2 to a bright grey; the others are zero. Saved as a checkpoint of `deepcluster train`.
    /// </summary>
    static void CraftedModel(string path)
    {
        using var model = ModelFactory.Create("alexnet_small", sobel: false, numClasses: 0);
        var p = model.named_parameters().ToDictionary(n => n.name, n => n.parameter);
        using (no_grad())
        {
            var w = p["features.0.weight"];   // 32 × 3 × 5 × 5
            w.zero_();
            p["features.0.bias"].zero_();
            float[][] colours = [[1, -1, -1], [-1, -1, 1], [1, 1, 1]];
            for (int f = 0; f < colours.Length; f++)
                for (int c = 0; c < 3; c++) w[f, c].fill_(colours[f][c] / 25f);
        }
        Checkpoint.Save(path, 3, "alexnet_small", model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value), null);
    }

    /// <summary>Grey noise images in two class folders; <c>b/003.png</c> has a red square, <c>a/002.png</c> a blue one.</summary>
    static void CraftedImages(string root)
    {
        var rng = new Random(3);
        foreach (var cls in new[] { "a", "b" })
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            for (int i = 0; i < 6; i++)
            {
                var px = new byte[28 * 28 * 3];
                for (int k = 0; k < 28 * 28; k++)
                {
                    var g = (byte)rng.Next(60, 140);
                    px[3 * k] = px[3 * k + 1] = px[3 * k + 2] = g;
                }
                (int R, int G, int B)? square = (cls, i) switch { ("b", 3) => (230, 20, 20), ("a", 2) => (20, 20, 230), _ => null };
                if (square is var (r, gr, b))
                    for (int y = 8; y < 20; y++)
                        for (int x = 8; x < 20; x++)
                        {
                            int k = 3 * (y * 28 + x);
                            (px[k], px[k + 1], px[k + 2]) = ((byte)r, (byte)gr, (byte)b);
                        }
                ImageCodec.SavePng(new RgbImage(28, 28, px), Path.Combine(root, cls, $"{i:D3}.png"));
            }
        }
    }

    [Fact]
    public void TopImagesFindsTheCraftedImageOfEachFilter()
    {
        using var dir = new TempDir();
        CraftedModel(dir.File("m.pth.tar"));
        CraftedImages(dir.File("data"));
        var exp = dir.File("exp");
        var (code, stdout, err) = CliInProcess.Run("visu", "top-images", "--model", dir.File("m.pth.tar"), "--conv", "1",
                                                  "--data", dir.File("data"), "--exp", exp, "--top", "3", "--device", "cpu", "--workers", "1");
        Assert.True(code == 0, err + stdout);
        var layer = Path.Combine(exp, "conv1");
        var filters = Json(Path.Combine(layer, "top-images.json")).GetProperty("filters");
        Assert.Equal(32, filters.GetArrayLength());
        string Best(int f) => filters[f].GetProperty("images")[0].GetProperty("path").GetString()!;
        Assert.Equal(Path.Combine(dir.File("data"), "b", "003.png"), Best(0));
        Assert.Equal(Path.Combine(dir.File("data"), "a", "002.png"), Best(1));
        var red = filters[0].GetProperty("images");
        Assert.Equal(3, red.GetArrayLength());
        Assert.True(red[0].GetProperty("score").GetSingle() > red[1].GetProperty("score").GetSingle());
        Assert.True(red[1].GetProperty("score").GetSingle() >= red[2].GetProperty("score").GetSingle());
        // A dead filter scores every image 0: ties keep dataset order.
        Assert.Equal([0, 1, 2], filters[5].GetProperty("images").EnumerateArray().Select(i => i.GetProperty("index").GetInt32()));
        // One grid per filter: 3 tiles of 28 × 28 in 2 columns, 2 rows, with 2-pixel gaps; its first tile is the red square.
        var grid = ImageCodec.Decode(Path.Combine(layer, "layer1-channel0-top.png"));
        Assert.Equal((62, 62), (grid.Width, grid.Height));
        int centre = 3 * ((2 + 14) * grid.Width + 2 + 14);
        Assert.True(grid.Pixels[centre] > 200 && grid.Pixels[centre + 1] < 60, "the red image comes first");
        Assert.Equal(32, Directory.GetFiles(layer, "layer1-channel*-top.png").Length);
        Assert.Contains("b/003.png", File.ReadAllLines(Path.Combine(layer, "top-images.txt"))[2]);
    }

    [Fact]
    public void TopImagesReadsAPack()
    {
        using var dir = new TempDir();
        CraftedModel(dir.File("m.pth.tar"));
        CraftedImages(dir.File("data"));
        Assert.Equal(0, CliInProcess.Run("pack", dir.File("data"), dir.File("data.dcpack")).Code);
        var (code, stdout, err) = CliInProcess.Run("visu", "top-images", "--model", dir.File("m.pth.tar"), "--conv", "1",
                                                  "--data", dir.File("data.dcpack"), "--exp", dir.File("exp"), "--top", "2", "--device", "cpu");
        Assert.True(code == 0, err + stdout);
        var filters = Json(Path.Combine(dir.File("exp"), "conv1", "top-images.json")).GetProperty("filters");
        Assert.Equal(6 + 3, filters[0].GetProperty("images")[0].GetProperty("index").GetInt32());   // b/003.png: the 10th image
        Assert.Equal(2, filters[1].GetProperty("images")[0].GetProperty("index").GetInt32());
    }

    [Fact]
    public void GradientAscentWritesAPngPerFilterAndAGrid()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var (code, stdout, err) = CliInProcess.Run("visu", "gradient-ascent", "--arch", "alexnet_small", "--conv", "2", "--exp", exp,
                                                  "--niter", "8", "--idim", "32", "--filters", "0,3-4", "--device", "cpu");
        Assert.True(code == 0, err + stdout);
        var layer = Path.Combine(exp, "conv2");
        foreach (var f in new[] { 0, 3, 4 })
        {
            var png = ImageCodec.Decode(Path.Combine(layer, $"layer2-channel{f}.png"));
            Assert.Equal((32, 32), (png.Width, png.Height));
            Assert.True(png.Pixels.Distinct().Count() > 20, "an image, not a flat colour");
            Assert.Contains($"filter {f}: activation", stdout);
        }
        Assert.False(File.Exists(Path.Combine(layer, "layer2-channel1.png")));
        var grid = ImageCodec.Decode(Path.Combine(layer, "layer2-grid.png"));
        Assert.Equal((2 * 34 + 2, 2 * 34 + 2), (grid.Width, grid.Height));
        var json = Json(Path.Combine(layer, "gradient-ascent.json"));
        Assert.Equal(8, json.GetProperty("niter").GetInt32());
        Assert.Equal(32, json.GetProperty("idim").GetInt32());
        Assert.Equal(3.0, json.GetProperty("lr").GetDouble());
        foreach (var f in json.GetProperty("filters").EnumerateArray())
            Assert.True(f.GetProperty("objective_end").GetSingle() > f.GetProperty("objective_start").GetSingle());
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "conv-6", "--conv 6: alexnet_small has conv layers 1 to 5." },
        { "top-conv-0", "--conv 0: alexnet_small has conv layers 1 to 5." },
        { "no-images", "no images in this folder" },
        { "flat-images", "must be in class sub-folders" },
        { "not-deepcluster", "its weights do not fit alexnet_small" },
        { "not-a-checkpoint", "m.pth.tar: not a DeepCluster model (" },
        { "filters", "--filters 0,40: filter 40 is out of range; the layer has filters 0 to 31" },
        { "idim", "--idim 1: too small for conv 5 of alexnet_small" },
        { "niter", "--niter 0" },
        { "no-model", "--model or --arch" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputIsOneClearLineAndExitCode2(string kind, string expected)
    {
        using var dir = new TempDir();
        var data = dir.File("data");
        var exp = dir.File("exp");
        Directory.CreateDirectory(data);
        string[] ascent = ["visu", "gradient-ascent", "--arch", "alexnet_small", "--exp", exp, "--device", "cpu", "--niter", "1", "--idim", "16"];
        string[] top = ["visu", "top-images", "--arch", "alexnet_small", "--exp", exp, "--device", "cpu", "--data", data, "--conv", "1"];
        string[] args;
        switch (kind)
        {
            case "conv-6": args = [.. ascent, "--conv", "6"]; break;
            case "top-conv-0": CraftedImages(data); args = [.. top[..^2], "--conv", "0"]; break;
            case "no-images": File.WriteAllText(Path.Combine(data, "notes.txt"), "no pictures"); Directory.CreateDirectory(Path.Combine(data, "empty")); args = top; break;
            case "flat-images": ImageCodec.SavePng(new RgbImage(4, 4), Path.Combine(data, "x.png")); args = top; break;
            case "not-deepcluster":
                // A PyTorch checkpoint of another network (TinyNet's conv-BN-ReLU-pool, linear head) that says alexnet_small.
                using (var net = new IO.TinyNet())
                    Checkpoint.Save(dir.File("m.pth.tar"), 1, "alexnet_small", net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value), null);
                args = ["visu", "gradient-ascent", "--model", dir.File("m.pth.tar"), "--conv", "1", "--exp", exp, "--device", "cpu"];
                break;
            case "not-a-checkpoint":
                File.WriteAllText(dir.File("m.pth.tar"), "these are not weights");
                args = ["visu", "top-images", "--model", dir.File("m.pth.tar"), "--conv", "1", "--exp", exp, "--data", data, "--device", "cpu"];
                CraftedImages(data);
                break;
            case "filters": args = [.. ascent, "--conv", "1", "--filters", "0,40"]; break;
            case "idim": args = [.. ascent[..^2], "--idim", "1", "--conv", "5"]; break;
            case "niter": args = [.. ascent[..^4], "--niter", "0", "--conv", "1"]; break;
            default: args = ["visu", "gradient-ascent", "--conv", "1", "--exp", exp]; break;
        }
        var (code, stdout, err) = CliInProcess.Run(args);
        CliErrors.AssertOneLine(code, stdout, err, expected);
        Assert.False(Directory.Exists(Path.Combine(exp, "conv1")) && Directory.EnumerateFiles(Path.Combine(exp, "conv1")).Any());
    }
}
