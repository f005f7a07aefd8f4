using System.Globalization;
using DeepCluster.Actors.Hosting;
using DeepCluster.Actors.Progress;
using Spectre.Console;

namespace DeepCluster.Cli;

/// <summary>
/// Shows the pipeline's progress: Spectre.Console progress bars (images/s, ETA) on a terminal, plain periodic
/// lines when the output is a file or a CI log.
/// </summary>
public abstract class ConsoleObserver : IExperimentObserver, IDisposable
{
    public static ConsoleObserver Create(bool verbose) =>
        !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive
            ? new LiveObserver() : new PlainObserver(TimeSpan.FromSeconds(10));

    public abstract void OnProgress(PhaseProgress p);
    public abstract void OnLog(string line);
    public virtual void Finish() { }
    public virtual void Dispose() { }

    protected static string Describe(PhaseProgress p) =>
        string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch} {p.Phase.ToString().ToLowerInvariant(),-10}") +
        (p.Rate > 0 ? string.Create(CultureInfo.InvariantCulture, $" {p.Rate,7:F0} {p.Unit}/s") : "") +
        (p.Detail is null ? "" : "  " + p.Detail);

    /// <summary>A line per phase every <c>interval</c> and when the phase ends.</summary>
    sealed class PlainObserver(TimeSpan interval) : ConsoleObserver
    {
        readonly Dictionary<(int, Phase), DateTime> last = new();
        readonly object gate = new();

        public override void OnProgress(PhaseProgress p)
        {
            lock (gate)
            {
                var key = (p.Epoch, p.Phase);
                var now = DateTime.UtcNow;
                var end = p.Done >= p.Total;
                if (!end && last.TryGetValue(key, out var t) && now - t < interval) return;
                last[key] = now;
                Console.WriteLine($"{Describe(p)}  {p.Done}/{p.Total}");
            }
        }

        public override void OnLog(string line) { lock (gate) Console.WriteLine(line); }
    }

    /// <summary>
    /// A Spectre.Console live progress display, one bar per phase. Log lines (epoch summaries) close the current
    /// display first, so bars and text never overwrite each other; the next progress opens a new one.
    /// </summary>
    sealed class LiveObserver : ConsoleObserver
    {
        readonly LiveBars<(int, Phase)> bars = new();

        public override void OnProgress(PhaseProgress p) => bars.Update((p.Epoch, p.Phase), Describe(p), p.Done, p.Total);

        public override void OnLog(string line) => bars.Log(line);

        public override void Finish() => bars.Dispose();

        public override void Dispose() => Finish();
    }
}
