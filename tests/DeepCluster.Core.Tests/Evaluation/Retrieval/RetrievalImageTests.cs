using System.Globalization;
using DeepCluster.Core.Evaluation.Retrieval;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.Evaluation.Retrieval;

public class RetrievalImageTests
{
    public RetrievalImageTests() => TorchRuntime.EnsureLoaded();

    /// <summary>
    /// The published <c>ImageHelper.load_and_prepare_image</c> (PIL resize so the larger side is S, ToTensor, Normalize, the
    /// box scaled and cropped from the resized tensor) gives the same tensor, on a PNG so no JPEG decoder differences enter.
    /// </summary>
    [Theory]
    [InlineData(64, null)]
    [InlineData(64, "10.5 3.2 80.5 40.7")]
    [InlineData(50, "0 0 97 53")]
    [InlineData(33, "20.4 10 60.6 52.9")]
    public void ResizedAndCroppedInputEqualsThePublishedHelper(int imdim, string? box)
    {
        using var dir = new TempDir();
        var py = PythonPeer.Run("""
            import sys, numpy as np, torch, torchvision
            from PIL import Image
            S, png = int(sys.argv[1]), sys.argv[2]
            rng = np.random.RandomState(7)
            Image.fromarray(rng.randint(0, 256, (53, 97, 3)).astype(np.uint8)).save(png)
            transforms = torchvision.transforms.Compose([torchvision.transforms.ToTensor(),
                torchvision.transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
            im = Image.open(png)
            im_size_hw = np.array((im.size[1], im.size[0]))
            ratio = float(S) / np.max(im_size_hw)
            new_size = tuple(np.round(im_size_hw * ratio).astype(np.int32))
            im_resized = transforms(im.resize((new_size[1], new_size[0]), Image.BILINEAR))
            if len(sys.argv) > 3:
                roi = np.array([float(q) for q in sys.argv[3].split()], dtype=np.float32)
                roi = np.round(roi * ratio).astype(np.int32)
                im_resized = im_resized[:, roi[1]:roi[3], roi[0]:roi[2]]
            print(' '.join(str(s) for s in im_resized.shape))
            print(' '.join(repr(float(v)) for v in im_resized.flatten()))
            """, box is null ? [imdim.ToString(CultureInfo.InvariantCulture), dir.File("a.png")] : [imdim.ToString(CultureInfo.InvariantCulture), dir.File("a.png"), box]).Trim().Split('\n');
        var boxValues = box?.Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        using var ours = RetrievalImage.Load(dir.File("a.png"), imdim, boxValues);
        Assert.Equal("1 " + py[0], string.Join(' ', ours.shape));
        PythonNumbers.AssertClose(py[1], ours.contiguous().data<float>().ToArray(), 1e-5);
    }
}
