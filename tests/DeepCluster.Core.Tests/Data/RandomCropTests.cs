using DeepCluster.Core.Data;

namespace DeepCluster.Core.Tests.Data;

public class RandomCropTests
{
    [Fact]
    public void CropsAreBoxesOfTheImageAtEveryOffsetAndDrawnFromTheRng()
    {
        var img = DataTestHelpers.RandomImage(32, 32, seed: 3);
        var crop = new RandomCrop(28);
        var offsets = new HashSet<(int, int)>();
        for (int k = 0; k < 400; k++)
        {
            var c = crop.Apply(img, SampleRng.For(1, 0, k));
            var again = crop.Apply(img, SampleRng.For(1, 0, k));
            Assert.Equal(c.Pixels, again.Pixels);
            var match = Enumerable.Range(0, 25).Select(i => (Top: i / 5, Left: i % 5))
                .Where(o => ImageOps.Crop(img, o.Left, o.Top, 28, 28).Pixels.AsSpan().SequenceEqual(c.Pixels)).ToList();
            Assert.Single(match);
            offsets.Add((match[0].Top, match[0].Left));
        }
        Assert.Equal(25, offsets.Count);   // every top and left in 0..4
        Assert.Contains("larger than input image", Assert.Throws<ArgumentException>(() => new RandomCrop(33).Apply(img, new SampleRng(0))).Message);
    }
}
