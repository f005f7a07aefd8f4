using DeepCluster.Core.Data;

namespace DeepCluster.Core.Tests.Data;

public class TurboJpegTests
{
    /// <summary>
    /// A JPEG with a second SOI marker where its APP0 segment should start leaves libjpeg-turbo 2.1's handle refusing every
    /// later file: without a fresh handle, every JPEG the thread decoded next went to SkiaSharp (other pixels than PIL's).
    /// </summary>
    [Fact]
    public void AFileThatBreaksTheDecoderDoesNotSpoilTheNextOnTheSameThread()
    {
        if (!TurboJpeg.Available) return;   // without libturbojpeg every JPEG goes through SkiaSharp anyway
        var pixels = new byte[24 * 16 * 3];
        new Random(5).NextBytes(pixels);
        var good = JpegEncoder.Encode(new RgbImage(24, 16, pixels), 90);
        var expected = TurboJpeg.TryDecode(good, "good.jpg")!.Pixels;
        var bad = (byte[])good.Clone();
        bad[3] = 0xD8;
        Exception? failure = null;
        var result = new Thread(() => { try { RunOnThread(); } catch (Exception e) { failure = e; } });
        result.Start();
        result.Join();
        if (failure is not null) throw failure;

        void RunOnThread()
        {
            Assert.Null(TurboJpeg.TryDecode(bad, "bad.jpg"));
            Assert.False(TurboJpeg.TryReadHeader(bad, out _, out _));
            Assert.True(TurboJpeg.TryReadHeader(good, out var w, out var h));
            Assert.Equal((24, 16), (w, h));
            Assert.Null(TurboJpeg.TryDecode(bad, "bad.jpg"));
            Assert.Equal(expected, TurboJpeg.TryDecode(good, "good.jpg")?.Pixels);
            Assert.Null(TurboJpeg.TryDecode(bad, "bad.jpg"));
            byte[]? buffer = null;
            Assert.True(TurboJpeg.TryDecodeInto(good, 24, 16, 1, ref buffer));
            Assert.Equal(expected, buffer.AsSpan(0, expected.Length).ToArray());
        }
    }
}
