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
        readonly Dictionary<(int, LinearEvalPhase), ProgressTask> tasks = new();
        TaskCompletionSource? stop;
        Task? display;
        ProgressContext? context;

        public override void OnProgress(LinearEvalProgress p)
        {
            if (context is null) Open();
            if (!tasks.TryGetValue((p.Epoch, p.Phase), out var task))
                tasks[(p.Epoch, p.Phase)] = task = context!.AddTask(Markup.Escape(Describe(p)), maxValue: Math.Max(1, p.Total));
            task.MaxValue = Math.Max(1, p.Total);
            task.Value = p.Done;
            task.Description = Markup.Escape(Describe(p));
            if (p.Done >= p.Total) task.StopTask();
        }

        public override void OnLog(string line)
        {
            Close();
            AnsiConsole.MarkupLine(Markup.Escape(line));
        }

        void Open()
        {
            var ready = new TaskCompletionSource();
            stop = new TaskCompletionSource();
            var until = stop.Task;
            display = AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                         new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async ctx => { context = ctx; ready.TrySetResult(); await until; });
            ready.Task.Wait(TimeSpan.FromSeconds(5));
        }

        void Close()
        {
            if (display is null) return;
            stop!.TrySetResult();
            display.Wait(TimeSpan.FromSeconds(5));
            display = null; context = null; tasks.Clear();
        }

        public override void Dispose() => Close();
    }
}
