namespace DeepCluster.Core.Data;

/// <summary>
/// libjpeg-turbo's DCT-domain downscaling in the loader: a JPEG whose crop (RandomResizedCrop's box, or the whole image
/// for Resize) is at least twice the output size on both sides is decoded at 1/2, 1/4 or 1/8 of its size (the largest
/// reduction whose scaled box is still at least the output size) and the scaled box is then resized as usual, so the
/// decode does a quarter to a sixty-fourth of the work. The pixels are not PIL's: against the full decode + resize they
/// differ by about a third of a grey level on average (0..255 units; the tests hold it under 1) and by a few tens at
/// most, at a few pixels of sharp edges. Off by default, so the loader gives torchvision's tensors bit for bit; set by
/// the HOCON key <c>deepcluster.data.jpeg-dct-scaling = on | off</c>, or, where no configuration is read (dcbench), by
/// the environment variable <c>DEEPCLUSTER_JPEG_DCT_SCALING=on|off</c>.
/// </summary>
/// <remarks>
/// When it applies: RandomResizedCrop(224) (scale 0.08–1) to boxes of at least 448×448, so never on ImageNet-sized
/// 500×375 photos, to ~9 % of the crops of a 640×480 one, ~69 % of a 1024×768 one (at 1/2) and all of a 4000×3000 one
/// (1/4 or 1/8); Resize(256) + CenterCrop(224) to images whose shorter side is at least 512 (1/2), 1024 (1/4) or 2048 (1/8).
/// </remarks>
public static class JpegDctScaling
{
    /// <summary>Environment variable read when the process starts (<c>on</c> or <c>off</c>).</summary>
    public const string Variable = "DEEPCLUSTER_JPEG_DCT_SCALING";

    static int _state = -1;   // -1: not yet read from the environment; 0 off; 1 on

    /// <summary>Whether the loader decodes large-enough JPEG crops at a reduced size.</summary>
    /// <exception cref="ArgumentException">Read while <c>DEEPCLUSTER_JPEG_DCT_SCALING</c> is neither on nor off.</exception>
    public static bool Enabled
    {
        get
        {
            var v = Volatile.Read(ref _state);
            if (v >= 0) return v == 1;
            Interlocked.CompareExchange(ref _state, Parse(Environment.GetEnvironmentVariable(Variable), Variable) ? 1 : 0, -1);
            return Volatile.Read(ref _state) == 1;
        }
        set => Volatile.Write(ref _state, value ? 1 : 0);
    }

    /// <summary>Reads <c>on</c>/<c>off</c> (also true/false, yes/no; any case); empty means off.</summary>
    /// <exception cref="ArgumentException">Any other value, naming <paramref name="origin"/> (a key or variable).</exception>
    public static bool Parse(string? text, string origin) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "off" or "false" or "no" => false,
        "on" or "true" or "yes" => true,
        _ => throw new ArgumentException($"{origin}={text}: expected on or off."),
    };

    /// <summary>
    /// The reduction (1, 2, 4 or 8) at which to decode a JPEG whose source box, in full-size pixels, is
    /// <paramref name="boxW"/>x<paramref name="boxH"/> and becomes <paramref name="outW"/>x<paramref name="outH"/>: the largest
    /// whose scaled box is still at least the output on both sides; 1 when <paramref name="enabled"/> is false.
    /// </summary>
    public static int Denominator(double boxW, double boxH, int outW, int outH, bool enabled)
    {
        if (!enabled) return 1;
        for (int d = 8; d > 1; d /= 2)
            if (boxW / d >= outW && boxH / d >= outH) return d;
        return 1;
    }
}
