using DeepCluster.Core.Data;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// The flat image folder of an evaluation's dataset (VOC's <c>JPEGImages/</c>, Oxford5k / Paris6k's <c>jpg/</c>) read
/// from a pack of <c>deepcluster pack</c> instead: <c>FOLDER.dcpack</c> where <c>FOLDER/</c> would be. A pack is made
/// from an ImageFolder (class sub-folders), so the folder is packed as the one class of a folder that links to it
/// (<c>mkdir s &amp;&amp; ln -s $PWD/VOC2007/JPEGImages s/ &amp;&amp; deepcluster pack s VOC2007/JPEGImages.dcpack</c>);
/// an image is found by its file name (<c>000005.jpg</c>), whatever class folder it was packed from.
/// </summary>
public sealed class PackedImageFolder : IDisposable
{
    /// <summary>File name → record index; −1 when several records have that file name.</summary>
    readonly Dictionary<string, int> byName = new(StringComparer.Ordinal);

    /// <summary>The pack.</summary>
    public PackedDataset Pack { get; }

    /// <summary>The pack file.</summary>
    public string FilePath => Pack.FilePath;

    /// <summary>The file names of the packed images (<c>000005.jpg</c>), each once.</summary>
    public IEnumerable<string> FileNames => byName.Keys;

    PackedImageFolder(PackedDataset pack)
    {
        Pack = pack;
        for (int i = 0; i < pack.Count; i++)
        {
            var path = pack.PathOf(i);
            var name = path[(path.LastIndexOf('/') + 1)..];
            byName[name] = byName.ContainsKey(name) ? -1 : i;
        }
    }

    /// <summary>The pack that stands for the folder <paramref name="folder"/>: <c>FOLDER.dcpack</c> beside it.</summary>
    public static string PackPathFor(string folder) => Path.TrimEndingDirectorySeparator(folder) + PackFormat.Extension;

    /// <summary>Opens and checks the pack at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">Not a pack, or a damaged one (the message names it).</exception>
    public static PackedImageFolder Open(string path) => new(PackedDataset.Open(path));

    /// <summary>True when exactly one packed image has the file name <paramref name="fileName"/>.</summary>
    public bool Contains(string fileName) => byName.TryGetValue(fileName, out var i) && i >= 0;

    /// <summary>The record of the image named <paramref name="fileName"/>.</summary>
    /// <param name="why">Why the image is needed, for the message when it is missing (<c>aeroplane_train.txt lists it</c>).</param>
    /// <exception cref="InvalidDataException">No packed image has that name, or several do.</exception>
    public int IndexOf(string fileName, string? why = null)
    {
        if (!byName.TryGetValue(fileName, out var i))
            throw new InvalidDataException($"{FilePath}: holds no image {fileName}{(why is null ? "" : $" ({why})")}.");
        if (i < 0)
            throw new InvalidDataException($"{FilePath}: holds several images named {fileName} (packed from different class folders); " +
                                           "pack the one image folder alone.");
        return i;
    }

    /// <summary>The image named <paramref name="fileName"/>, as the pack stores it.</summary>
    public RgbImage Load(string fileName) => Pack.Load(IndexOf(fileName));

    /// <summary>The pack, record and original path of <paramref name="fileName"/>, for messages.</summary>
    public string Describe(string fileName) => Pack.Describe(IndexOf(fileName));

    /// <summary>
    /// True when the pack may have resized the image named <paramref name="fileName"/>: <c>pack</c> resizes an image to
    /// a shorter side of exactly its <c>--max-side</c>, so a stored shorter side below it proves the original pixels.
    /// </summary>
    public bool MayBeResized(string fileName)
    {
        var (w, h) = Pack.SizeOf(IndexOf(fileName));
        return Math.Min(w, h) >= Pack.MaxSide;
    }

    /// <summary>Unmaps the pack.</summary>
    public void Dispose() => Pack.Dispose();
}
