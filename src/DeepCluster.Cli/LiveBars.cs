using Spectre.Console;

namespace DeepCluster.Cli;

/// <summary>
/// A Spectre.Console live progress display with one bar per key (a phase of an epoch, a pass). A log line closes the
/// display first, so bars and text never overwrite each other; the next update opens a new one. Thread-safe.
/// </summary>
sealed class LiveBars<TKey> : IDisposable where TKey : notnull
{
    readonly Dictionary<TKey, ProgressTask> tasks = new();
    readonly object gate = new();
    TaskCompletionSource? stop;
    Task? display;
    ProgressContext? context;

    public void Update(TKey key, string description, long done, long total)
    {
        lock (gate)
        {
            if (context is null) Open();
            var text = Markup.Escape(description);
            if (!tasks.TryGetValue(key, out var task)) tasks[key] = task = context!.AddTask(text, maxValue: Math.Max(1, total));
            task.MaxValue = Math.Max(1, total);
            task.Value = done;
            task.Description = text;
            if (done >= total) task.StopTask();
        }
    }

    public void Log(string line)
    {
        lock (gate)
        {
            Close();
            AnsiConsole.MarkupLine(Markup.Escape(line));
        }
    }

    public void Dispose() { lock (gate) Close(); }

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
}
