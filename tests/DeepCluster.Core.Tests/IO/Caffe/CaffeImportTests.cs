using DeepCluster.Core.Data;
using DeepCluster.Core.Evaluation;
using DeepCluster.Core.IO.Caffe;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.IO.Caffe;

/// <summary>
/// Released-style Caffe models, written from known weights, load into our modules: the same outputs as the model the
/// weights came from on our normalised RGB input, the first conv behaving on it as Caffe's does on BGR in 0–255;
/// and every kind of file that is not such a model is refused by one line naming it.
/// </summary>
public class CaffeImportTests
{
    public CaffeImportTests() => TorchRuntime.EnsureLoaded();

    /// <summary>A model with Sobel, non-trivial BatchNorm statistics and a head of 7 clusters.</summary>
    static DeepClusterNet Source(long seed)
    {
        manual_seed(seed);
        var model = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 7);
        using (no_grad())
            foreach (var (name, t) in model.named_buffers().Concat(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter))))
            {
                if (name.EndsWith("running_mean")) t.uniform_(-0.2, 0.2);
                else if (name.EndsWith("running_var")) t.uniform_(0.5, 1.5);
                else if (name.StartsWith("features.") && t.dim() == 1 && name.EndsWith(".weight")) t.uniform_(0.5, 1.5);
                else if (name.StartsWith("features.") && name.EndsWith(".bias")) t.uniform_(-0.1, 0.1);
            }
        model.eval();
        return model;
    }

    [Theory]
    [InlineData(ReleasedCaffeExport.Preprocessing.FoldedIntoGrey, 1f, 1e-5f)]
    [InlineData(ReleasedCaffeExport.Preprocessing.SeparateConv, 0.25f, 1e-3f)]
    public void ReleasedLayoutGivesTheOutputsOfTheWeightsItWasWrittenFrom(ReleasedCaffeExport.Preprocessing pre, float bnFactor, float bnEps)
    {
        using var dir = new TempDir();
        using var source = Source(21);
        var file = dir.File("model.caffemodel");
        ReleasedCaffeExport.Write(source, file, pre, bnFactor, bnEps);
        using var x = randn(3, 3, 28, 28, generator: new Generator(8));

        using (var imported = EvaluatedModel.Load(file, arch: null, sobel: false, seed: 0, CPU, withHead: true))
        {
            Assert.Equal("alexnet_small", imported.Arch);
            Assert.True(imported.UsesSobel);
            Assert.Equal(7, imported.TopLayer!.weight!.shape[0]);
            using var expected = source.forward(x);
            using var actual = imported.forward(x);
            AssertClose(expected, actual);
        }
        using var trunk = EvaluatedModel.Load(file, arch: "alexnet_small", sobel: false, seed: 0, CPU);
        Assert.Null(trunk.TopLayer);
        using var e0 = source.Embed(x);
        using var e1 = trunk.Embed(x);
        AssertClose(e0, e1);
    }

    /// <summary>
    /// The convention itself, from the raw blobs: our grey conv on our input equals Caffe's first convolution(s) on
    /// the same image as BGR in 0–255.
    /// </summary>
    [Fact]
    public void TheGreyConvOnOurInputIsCaffesOnBgrIn0To255()
    {
        using var dir = new TempDir();
        using var source = Source(5);
        var file = dir.File("model.caffemodel");
        ReleasedCaffeExport.Write(source, file, ReleasedCaffeExport.Preprocessing.SeparateConv);
        var net = CaffeNet.Read(file);
        var convs = net.Layers.Where(l => l.Type == "Convolution").ToList();
        Assert.Equal("ConvNdBackward1", convs[0].Name);

        using var scope = NewDisposeScope();
        var x = randn(2, 3, 16, 16, generator: new Generator(2));
        var mean = tensor(ImageNetStats.Mean.ToArray()).view(1, 3, 1, 1);
        var std = tensor(ImageNetStats.Std.ToArray()).view(1, 3, 1, 1);
        var bgr255 = ((x * std + mean) * 255).flip(1);
        var caffe = nn.functional.conv2d(bgr255, convs[0].Blobs[0].ToTensor(3, 3, 1, 1), convs[0].Blobs[1].ToTensor(3));
        caffe = nn.functional.conv2d(caffe, convs[1].Blobs[0].ToTensor(1, 3, 1, 1), convs[1].Blobs[1].ToTensor(1));

        using var imported = CaffeImport.Load(file);
        var sd = imported.state_dict();
        var ours = nn.functional.conv2d(x, sd["sobel.0.weight"], sd["sobel.0.bias"]);
        AssertClose(caffe, ours);
        // The file's Sobel conv is taken as it is.
        Assert.True(sd["sobel.1.weight"].eq(convs[2].Blobs[0].ToTensor(2, 1, 3, 3)).all().item<bool>());
    }

    /// <summary>
    /// VGG16 is told from AlexNet by its 13 convolutions and 5 pools (a released VGG16 file is 550 MB; this one has the
    /// layout with 4 channels per conv): recognised as vgg16, then refused on the first weight that does not fit.
    /// </summary>
    [Fact]
    public void AVgg16LayoutIsRecognisedByItsLayersAndWeightsOfAnotherSizeAreRefused()
    {
        using var dir = new TempDir();
        var file = dir.File("narrow.caffemodel");
        var w = new CaffeModelWriter();
        w.Convolution("grey", ones(1, 3, 1, 1) / 3, zeros(1), 1, 0);
        w.Convolution("sobel", ones(2, 1, 3, 3), zeros(2), 1, 1);
        long channels = 2;
        foreach (var (convs, block) in new[] { 2, 2, 3, 3, 3 }.Select((n, i) => (n, i)))
        {
            for (var c = 0; c < convs; c++)
            {
                w.Convolution($"conv{block + 1}_{c + 1}", ones(4, channels, 3, 3), zeros(4), 1, 1);
                w.BatchNorm($"bn{block + 1}_{c + 1}", zeros(4), ones(4), 1f, 1e-5f);
                w.Scale($"scale{block + 1}_{c + 1}", ones(4), zeros(4));
                w.Layer($"relu{block + 1}_{c + 1}", "ReLU");
                channels = 4;
            }
            w.MaxPool($"pool{block + 1}", 2, 2);
        }
        w.InnerProduct("fc6", ones(8, 4 * 7 * 7), zeros(8));
        w.Layer("relu6", "ReLU");
        w.InnerProduct("fc7", ones(8, 8), zeros(8));
        w.Write(file);

        var layout = CaffeLayout.Analyse(CaffeNet.Read(file), file);
        Assert.Equal("vgg16", layout.Arch);
        Assert.True(layout.Sobel);
        Assert.Equal(13, layout.Convs.Count);
        var e = Assert.Throws<InvalidDataException>(() => EvaluatedModel.Load(file, null, false, 0, CPU));
        Assert.Contains("features.0.weight of vgg16 is (64, 2, 3, 3)", e.Message);
        Assert.StartsWith("--model " + file, e.Message);
    }

    public static TheoryData<string, string> BadFiles => new()
    {
        { "garbage", "not a Caffe model" },
        { "pytorch", "not a Caffe model" },
        { "truncated", "not a Caffe model" },
        { "empty", "not a Caffe model" },
        { "v1", "V1" },
        { "prototxt", "give the .caffemodel" },
        { "unknown-layer", "layer 'norm1' (LRN)" },
        { "four-convs", "4 convolution layers" },
        { "no-sobel-shape", "not DeepCluster's Sobel filtering" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void WhatIsNotAReleasedModelIsOneLineNamingTheFile(string kind, string expected)
    {
        using var dir = new TempDir();
        var file = dir.File(kind == "prototxt" ? "model.prototxt" : "model.caffemodel");
        using var source = Source(3);
        switch (kind)
        {
            case "garbage":
                File.WriteAllBytes(file, Enumerable.Range(0, 5000).Select(i => (byte)(i * 7919 % 251)).ToArray());
                break;
            case "pytorch":
                DeepCluster.Core.Training.ModelFiles.Save(file, source, optim.SGD(source.TrunkParameters(), 0.1), 1, "alexnet_small");
                break;
            case "truncated":
                ReleasedCaffeExport.Write(source, dir.File("full.caffemodel"));
                var bytes = File.ReadAllBytes(dir.File("full.caffemodel"));
                File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]);
                break;
            case "empty":
                File.WriteAllBytes(file, []);
                break;
            case "v1":
                File.WriteAllBytes(file, [0x12, 0x02, 0x0a, 0x00]);      // field 2 (V1 'layers') holding an empty message
                break;
            case "prototxt":
                File.WriteAllText(file, "name: \"pytorch\"\ninput: \"data\"\n");
                break;
            case "unknown-layer":
                ReleasedCaffeExport.Write(source, file, damage: new ReleasedCaffeExport.Damage(ExtraLayerType: "LRN"));
                break;
            case "four-convs":
                ReleasedCaffeExport.Write(source, file, damage: new ReleasedCaffeExport.Damage(DropLastConv: true));
                break;
            case "no-sobel-shape":
                var w = new CaffeModelWriter();
                w.Convolution("pre", ones(3, 3, 1, 1), zeros(3), 1, 0);
                w.Convolution("conv1", ones(32, 3, 5, 5), zeros(32), 1, 2);
                w.Layer("relu1", "ReLU");
                w.Write(file);
                break;
        }
        var e = Assert.Throws<InvalidDataException>(() => EvaluatedModel.Load(file, null, false, 0, CPU));
        Assert.Contains(file, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    static void AssertClose(Tensor expected, Tensor actual)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(expected.shape, actual.shape);
        var scale = expected.abs().max().item<float>();
        var diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= 1e-4 * Math.Max(scale, 1f), $"max abs diff {diff} (largest value {scale})");
    }
}
