using System.Globalization;

namespace DeepCluster.Core.Experiment;

/// <summary>
/// The flags that change how a run goes but not what it computes (<c>--workers</c>, <c>--device</c>,
/// <c>--verbose</c>, <c>--skip-bad-files</c>, <c>--checkpoints</c>, <c>--epochs</c>): a run of an existing
/// experiment with other values applies them and journals the change.
/// </summary>
public sealed record RunSettings(int Workers, string? Device, bool Verbose, bool SkipBadFiles, int Checkpoints, int Epochs)
{
    /// <summary>Each differing flag, as <c>--workers 2 (was 4)</c>.</summary>
    public IReadOnlyList<string> ChangesTo(RunSettings now)
    {
        var before = Flags(); var after = now.Flags();
        return before.Keys.Where(k => before[k] != after[k]).Select(k => $"{k} {after[k]} (was {before[k]})").ToList();
    }

    Dictionary<string, string> Flags() => new()
    {
        ["--workers"] = Workers.ToString(CultureInfo.InvariantCulture),
        ["--device"] = Device ?? "auto",
        ["--verbose"] = Verbose ? "on" : "off",
        ["--skip-bad-files"] = SkipBadFiles ? "on" : "off",
        ["--checkpoints"] = Checkpoints.ToString(CultureInfo.InvariantCulture),
        ["--epochs"] = Epochs.ToString(CultureInfo.InvariantCulture),
    };
}
