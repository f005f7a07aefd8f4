using System.Globalization;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace DeepCluster.Actors.Hosting;

/// <summary>The <c>deepcluster.*</c> settings of the HOCON configuration, read and checked once at start-up.</summary>
/// <param name="PrefetchBatches">Batches the loader decodes ahead of the consumer (<c>deepcluster.loader.prefetch-batches</c>).</param>
/// <param name="PullWindow">Batches a consumer asks for ahead of the one it uses (<c>deepcluster.loader.pull-window</c>).</param>
/// <param name="MaxImagePixels">Largest width × height an image may claim before it is decoded (<c>deepcluster.data.max-image-pixels</c>; PIL's MAX_IMAGE_PIXELS).</param>
/// <param name="RangeImages">Images per range of the feature pass, rounded up to whole batches (<c>deepcluster.features.range-images</c>).</param>
/// <param name="LocalWorkers">Feature workers the pipeline starts in this process (<c>deepcluster.features.local-workers</c>).</param>
/// <param name="LocalClusteringWorkers">k-means workers the pipeline starts in this process (<c>deepcluster.clustering.local-workers</c>).</param>
/// <param name="JpegDctScaling">Decode large-enough JPEG crops at 1/2, 1/4 or 1/8 size (<c>deepcluster.data.jpeg-dct-scaling</c>; see <see cref="DeepCluster.Core.Data.JpegDctScaling"/>).</param>
/// <param name="RemoteLoaders">Whether loader workers of worker nodes make a host's training batches: auto, on or off (<c>deepcluster.training.remote-loaders</c>).</param>
/// <param name="RemoteWindow">Batches loader workers make ahead of the one the trainer is due (<c>deepcluster.training.remote-window</c>).</param>
/// <param name="RemoteTimeoutSeconds">How long a loader worker may hold a batch without a word before another makes it (<c>deepcluster.training.remote-timeout-seconds</c>).</param>
public sealed record DeepClusterSettings(int PrefetchBatches, int PullWindow, long MaxImagePixels, int RangeImages = 2048, int LocalWorkers = 1,
                                         int LocalClusteringWorkers = 1, string RemoteLoaders = "auto", int RemoteWindow = 16,
                                         int RemoteTimeoutSeconds = 120, bool JpegDctScaling = false)
{
    /// <summary><see cref="RemoteLoaders"/> as the batch source reads it.</summary>
    public DataLoading.RemoteLoaders RemoteLoadersMode => RemoteLoaders switch
    {
        "on" => DataLoading.RemoteLoaders.On,
        "off" => DataLoading.RemoteLoaders.Off,
        _ => DataLoading.RemoteLoaders.Auto,
    };


    /// <summary>The shipped defaults (what config/deepcluster.conf says).</summary>
    public static DeepClusterSettings Default { get; } = new(3, 2, 89_478_485);

    /// <summary>Reads the settings of a configuration already checked by <see cref="HostConfig.Load"/> (or the defaults where absent).</summary>
    public static DeepClusterSettings From(Config config) => new(
        config.GetInt("deepcluster.loader.prefetch-batches", Default.PrefetchBatches),
        config.GetInt("deepcluster.loader.pull-window", Default.PullWindow),
        config.GetLong("deepcluster.data.max-image-pixels", Default.MaxImagePixels),
        config.GetInt("deepcluster.features.range-images", Default.RangeImages),
        config.GetInt("deepcluster.features.local-workers", Default.LocalWorkers),
        config.GetInt("deepcluster.clustering.local-workers", Default.LocalClusteringWorkers),
        config.GetString("deepcluster.training.remote-loaders", Default.RemoteLoaders),
        config.GetInt("deepcluster.training.remote-window", Default.RemoteWindow),
        config.GetInt("deepcluster.training.remote-timeout-seconds", Default.RemoteTimeoutSeconds),
        config.HasPath(DctScalingKey) ? DeepCluster.Core.Data.JpegDctScaling.Parse(config.GetString(DctScalingKey), DctScalingKey) : Default.JpegDctScaling);

    /// <summary>The HOCON key of <see cref="JpegDctScaling"/>.</summary>
    public const string DctScalingKey = "deepcluster.data.jpeg-dct-scaling";

    /// <summary>Applies the process-wide decoding settings (<see cref="MaxImagePixels"/>, <see cref="JpegDctScaling"/>).</summary>
    public void ApplyToDecoding()
    {
        DeepCluster.Core.Data.ImageCodec.MaxImagePixels = MaxImagePixels;
        DeepCluster.Core.Data.JpegDctScaling.Enabled = JpegDctScaling;
    }

    /// <summary>
    /// The keys these settings are read from: with <c>deepcluster.compute-dispatcher</c> and <see cref="JournalSettings.Keys"/>,
    /// every key of the shipped file.
    /// </summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["deepcluster.loader.prefetch-batches", "deepcluster.loader.pull-window", "deepcluster.data.max-image-pixels",
         "deepcluster.features.range-images", "deepcluster.features.local-workers", "deepcluster.clustering.local-workers",
         "deepcluster.training.remote-loaders", "deepcluster.training.remote-window", "deepcluster.training.remote-timeout-seconds", DctScalingKey];

    /// <summary>The settings of the actor system this actor runs in.</summary>
    public static DeepClusterSettings Of(Akka.Actor.ActorSystem system) => From(system.Settings.Config);
}

/// <summary>
/// Loads the host's HOCON: the shipped <c>config/deepcluster.conf</c> is the fallback and a <c>--config</c> file overrides
/// only what it sets. A syntax error names the file and the line; an unknown <c>deepcluster.*</c> key or a value of the
/// wrong type names the key. Errors are <see cref="InvalidDataException"/> / <see cref="FileNotFoundException"/>.
/// </summary>
public static class HostConfig
{
    /// <summary>The default HOCON shipped next to the application.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "config", "deepcluster.conf");

    const string Dispatcher = PipelineSupervisor.ComputeDispatcher;

    /// <summary>Positive whole numbers, by key; every other shipped deepcluster.* key is a string or an object.</summary>
    static readonly Dictionary<string, long> PositiveIntegers = new()
    {
        ["deepcluster.loader.prefetch-batches"] = 64,
        ["deepcluster.loader.pull-window"] = 64,
        ["deepcluster.data.max-image-pixels"] = long.MaxValue,
        ["deepcluster.features.range-images"] = 1 << 30,
        ["deepcluster.features.local-workers"] = 64,
        ["deepcluster.clustering.local-workers"] = 64,
        ["deepcluster.training.remote-window"] = 1024,
        ["deepcluster.training.remote-timeout-seconds"] = 86400,
    };

    /// <summary>Keys whose value is one of a few words.</summary>
    static readonly Dictionary<string, string[]> Choices = new()
    {
        ["deepcluster.training.remote-loaders"] = ["auto", "on", "off"],
    };

    /// <summary>The dispatcher types Akka knows by short name.</summary>
    static readonly string[] DispatcherTypes = ["PinnedDispatcher", "Dispatcher", "ForkJoinDispatcher", "TaskDispatcher", "SynchronizedDispatcher"];

    /// <param name="userPath">The <c>--config</c> file, or null.</param>
    /// <param name="journal">The <c>--journal</c> flag (see <see cref="JournalSettings.FlagToHocon"/>), which overrides
    /// <c>deepcluster.journal</c>; null: the configuration's.</param>
    public static (Config Hocon, DeepClusterSettings Settings) Load(string? userPath, string? journal = null)
    {
        var shipped = Parse(DefaultPath, isUser: false);
        var config = shipped;
        if (userPath is not null)
        {
            var user = Parse(userPath, isUser: true);
            CheckKeys(user, shipped, userPath);
            config = user.WithFallback(shipped);
        }
        if (journal is not null) config = JournalSettings.FlagToHocon(journal).WithFallback(config);
        var file = userPath ?? DefaultPath;
        CheckValues(config, file);
        return (config, DeepClusterSettings.From(config));
    }

    static Config Parse(string file, bool isUser)
    {
        if (!File.Exists(file))
            throw new FileNotFoundException(isUser ? $"--config {file}: configuration file not found."
                                                   : $"{file}: the shipped configuration is missing; reinstall deepcluster.");
        var text = Read(file, isUser ? $"--config {file}" : file);
        try { return new Config(ParseChecked(text, file, [Path.GetFullPath(file)])); }
        catch (Exception e) when (e is not (InvalidDataException or FileNotFoundException))
        { throw new InvalidDataException($"{file}: not valid HOCON ({e.Message})."); }
    }

    static string Read(string file, string name)
    {
        try { return File.ReadAllText(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new InvalidDataException($"{name}: cannot be read ({e.Message})."); }
    }

    /// <summary>
    /// Checks and parses one file; <c>include "FILE"</c> reads FILE relative to the including file's folder (checked
    /// the same way; its settings merged where the include stands, so what follows it overrides it).
    /// </summary>
    static HoconRoot ParseChecked(string text, string file, IReadOnlyList<string> chain)
    {
        HoconSyntax.Check(text, file);
        return Parser.Parse(text, name =>
        {
            var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", name));
            if (!File.Exists(path)) throw new FileNotFoundException($"{file}: include \"{name}\": no such file ({path}).");
            if (chain.Contains(path))
                throw new InvalidDataException($"{file}: include \"{name}\" includes itself ({string.Join(" -> ", chain.Select(Path.GetFileName))} -> {Path.GetFileName(path)}).");
            return ParseChecked(Read(path, $"{file}: include \"{name}\""), path, [.. chain, path]);
        });
    }

    /// <summary>Every deepcluster.* key of the user's file must be one the shipped file has, with the same shape.</summary>
    static void CheckKeys(Config user, Config shipped, string file)
    {
        if (user.Root?.IsObject() != true) return;
        var items = user.Root.GetObject().Items;
        if (!items.TryGetValue("deepcluster", out var dc)) return;
        if (!dc.IsObject()) throw new InvalidDataException($"{file}: deepcluster must be an object of settings, not a value.");
        Walk(dc.GetObject(), "deepcluster");

        void Walk(HoconObject obj, string prefix)
        {
            foreach (var (name, value) in obj.Items)
            {
                var key = $"{prefix}.{name}";
                if (key.StartsWith(Dispatcher + ".", StringComparison.Ordinal)) continue;   // any Akka dispatcher setting
                if (!shipped.HasPath(key))
                    throw new InvalidDataException($"{file}: unknown key {key}; the known keys are {string.Join(", ", KnownKeys(shipped))}.");
                var expectObject = shipped.GetValue(key).IsObject();
                if (value.IsObject() != expectObject)
                    throw new InvalidDataException($"{file}: {key} must be {(expectObject ? "an object { ... }" : "a value")}.");
                if (value.IsObject()) Walk(value.GetObject(), key);
            }
        }
    }

    /// <summary>The deepcluster.* keys of the shipped file (the dispatcher as one key).</summary>
    public static IReadOnlyList<string> ShippedKeys() => KnownKeys(Parse(DefaultPath, isUser: false)).ToList();

    static IEnumerable<string> KnownKeys(Config shipped)
    {
        var keys = new List<string>();
        void Walk(HoconObject obj, string prefix)
        {
            foreach (var (name, value) in obj.Items)
            {
                var key = $"{prefix}.{name}";
                if (value.IsObject() && key != Dispatcher) Walk(value.GetObject(), key);
                else keys.Add(key);
            }
        }
        Walk(shipped.GetValue("deepcluster").GetObject(), "deepcluster");
        return keys;
    }

    /// <summary>Types and ranges of the merged configuration.</summary>
    static void CheckValues(Config config, string file)
    {
        foreach (var (key, max) in PositiveIntegers)
        {
            var raw = config.HasPath(key) ? config.GetValue(key) : null;
            var text = raw is null || raw.IsEmpty || raw.IsObject() || raw.IsArray() ? null : raw.GetString();
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < 1 || v > max)
                throw new InvalidDataException($"{file}: {key} = {text ?? "(none)"}: expected a whole number from 1 to {max}.");
        }
        foreach (var (key, words) in Choices)
        {
            var raw = config.HasPath(key) ? config.GetValue(key) : null;
            var text = raw is null || raw.IsEmpty || raw.IsObject() || raw.IsArray() ? null : raw.GetString();
            if (text is null || !words.Contains(text))
                throw new InvalidDataException($"{file}: {key} = {text ?? "(none)"}: expected one of {string.Join(", ", words)}.");
        }
        var typeValue = config.HasPath(Dispatcher + ".type") ? config.GetValue(Dispatcher + ".type") : null;
        var type = typeValue is null || typeValue.IsEmpty || typeValue.IsObject() || typeValue.IsArray() ? null : typeValue.GetString();
        if (type is null || !(DispatcherTypes.Contains(type) || (type.Contains(',') && Type.GetType(type) is not null)))
            throw new InvalidDataException($"{file}: {Dispatcher}.type = {type ?? "(none)"}: expected one of {string.Join(", ", DispatcherTypes)} " +
                                           "or an assembly-qualified dispatcher type.");
        var scaling = config.HasPath(DeepClusterSettings.DctScalingKey) ? config.GetValue(DeepClusterSettings.DctScalingKey) : null;
        var scalingText = scaling is null || scaling.IsEmpty || scaling.IsObject() || scaling.IsArray() ? null : scaling.GetString();
        if (scalingText?.Trim().ToLowerInvariant() is not ("on" or "off" or "true" or "false" or "yes" or "no"))
            throw new InvalidDataException($"{file}: {DeepClusterSettings.DctScalingKey} = {scalingText ?? "(none)"}: expected on or off.");
        JournalSettings.Check(config, file);
    }
}
