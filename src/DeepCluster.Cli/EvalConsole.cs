using System.Globalization;
using DeepCluster.Core.Evaluation;
using Spectre.Console;

namespace DeepCluster.Cli;

/// <summary>
/// Shows an evaluation's progress like <see cref="ConsoleObserver"/> shows training: a Spectre.Console bar per pass on a
/// terminal, a plain line per pass every 10 s (and when it ends) when the output is a file or a CI log.
/// </summary>
public abstract class EvalConsole : ILinearEvalObserver, IDisposable
{
    public static EvalConsole Create() =>
        !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive ? new Live() : new Plain(TimeSpan.FromSeconds(10));

    public abstract void OnProgress(LinearEvalProgress p);
    public abstract void OnLog(string line);
    public virtual void Dispose() { }

    protected static string Describe(LinearEvalProgress p) =>
        (p.Label ?? string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch + 1} {p.Phase.ToString().ToLowerInvariant(),-5}")) +
        (p.ImagesPerSecond > 0 ? string.Create(CultureInfo.InvariantCulture, $" {p.ImagesPerSecond,7:F0} images/s") : "");

    sealed class Plain(TimeSpan interval) : EvalConsole
    {
        readonly Dictionary<(int, LinearEvalPhase), DateTime> last = new();

        public override void OnProgress(LinearEvalProgress p)
        {
            var now = DateTime.UtcNow;
            bool end = p.Done >= p.Total, first = !last.TryGetValue((p.Epoch, p.Phase), out var t);
            if (first) { last[(p.Epoch, p.Phase)] = now; return; }
            if (!end && now - t < interval) return;
            last[(p.Epoch, p.Phase)] = now;
            Console.WriteLine($"{Describe(p)}  {p.Done}/{p.Total}");
        }

        public override void OnLog(string line) => Console.WriteLine(line);
    }

    /// <summary>A live display; a log line closes it first so bars and text never overwrite each other.</summary>
    sealed class Live : EvalConsole
    {
        readonly LiveBars<(int, LinearEvalPhase)> bars = new();

        public override void OnProgress(LinearEvalProgress p) => bars.Update((p.Epoch, p.Phase), Describe(p), p.Done, p.Total);

        public override void OnLog(string line) => bars.Log(line);

        public override void Dispose() => bars.Dispose();
    }
}
