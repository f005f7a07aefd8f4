namespace DeepCluster.Core.Data;

/// <summary>A sample could not be read or decoded; <see cref="Origin"/> names the file (and record).</summary>
public sealed class ImageDecodeException : IOException
{
    /// <summary>The file (or file and record number) that failed.</summary>
    public string Origin { get; }

    /// <summary>Creates the exception; the message starts with the source.</summary>
    public ImageDecodeException(string source, string reason, Exception? inner = null)
        : base($"{source}: {reason}", inner) => Origin = source;
}
