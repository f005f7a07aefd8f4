using DeepCluster.Core.Data;
using static TorchSharp.torch;

namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>
/// The published <c>ImageHelper.load_and_prepare_image</c>: the image resized (Pillow bilinear) so its larger side is
/// <c>imdim</c> (each side <c>round(side · imdim / larger)</c>, numpy's half-to-even), ToTensor and ImageNet
/// normalisation, and for a query the box scaled by the same ratio (in float32, rounded half-to-even) and cropped from
/// the resized image with Python's slice clamping.
/// </summary>
public static class RetrievalImage
{
    static readonly Compose ToTensorNormalized = new(new ToTensor(), Normalize.ImageNet());

    /// <summary>The network input [1, 3, H, W] of <paramref name="path"/>, cropped to <paramref name="box"/> (x1 y1 x2 y2) when given.</summary>
    /// <exception cref="InvalidDataException">The box lies outside the image or gives an empty crop.</exception>
    public static Tensor Load(string path, int imdim, float[]? box = null, string? boxSource = null) =>
        Prepare(ImageCodec.Decode(path), path, imdim, box, boxSource);

    /// <summary>The network input [1, 3, H, W] of the decoded <paramref name="image"/> (from <paramref name="source"/>, for
    /// messages), cropped to <paramref name="box"/> (x1 y1 x2 y2 in <paramref name="image"/>'s pixels) when given.</summary>
    /// <exception cref="InvalidDataException">The box lies outside the image or gives an empty crop.</exception>
    public static Tensor Prepare(RgbImage image, string source, int imdim, float[]? box = null, string? boxSource = null)
    {
        double ratio = (double)imdim / Math.Max(image.Width, image.Height);
        int h = Math.Max(1, (int)Math.Round(image.Height * ratio)), w = Math.Max(1, (int)Math.Round(image.Width * ratio));
        var resized = PilResampler.Resize(image, w, h);
        if (box is not null)
        {
            if (box[0] >= image.Width || box[1] >= image.Height)
                throw new InvalidDataException($"{boxSource ?? source}: box {string.Join(' ', box)} lies outside the {image.Width}×{image.Height} image {source}.");
            var r = box.Select(v => (int)MathF.Round(v * (float)ratio, MidpointRounding.ToEven)).ToArray();
            int x1 = Math.Clamp(r[0], 0, w), y1 = Math.Clamp(r[1], 0, h), x2 = Math.Clamp(r[2], 0, w), y2 = Math.Clamp(r[3], 0, h);
            if (x2 <= x1 || y2 <= y1)
                throw new InvalidDataException($"{boxSource ?? source}: box {string.Join(' ', box)} is empty once the image is resized to {w}×{h} (--imdim {imdim}).");
            resized = ImageOps.Crop(resized, x1, y1, x2 - x1, y2 - y1);
        }
        var data = ToTensorNormalized.Apply(resized, new SampleRng(0), out var shape);
        return tensor(data, [1, 3, shape.Height, shape.Width]);
    }
}
