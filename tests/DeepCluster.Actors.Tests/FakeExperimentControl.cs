using System.Text;
using DeepCluster.Actors.Control;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// An in-memory <see cref="IExperimentControl"/> for the control API's tests: experiments are views and log text that
/// a test changes; every call is recorded. <see cref="Hang"/> makes every call wait until it is cancelled.
/// </summary>
public sealed class FakeExperimentControl : IExperimentControl
{
    sealed class Entry
    {
        public required ExperimentStatusView View;
        public readonly StringBuilder Log = new();
    }

    readonly object gate = new();
    readonly Dictionary<string, Entry> experiments = new();
    readonly List<string> calls = new();
    readonly List<TrainConfig> submitted = new();

    public bool Hang { get; set; }
    /// <summary>Thrown by every call when set (an unexpected failure of the host).</summary>
    public Exception? Failure { get; set; }

    public IReadOnlyList<string> Calls { get { lock (gate) return calls.ToList(); } }
    public IReadOnlyList<TrainConfig> Submitted { get { lock (gate) return submitted.ToList(); } }

    /// <summary>Adds an experiment as a host would show it; <paramref name="folder"/>: its folder (else <c>/experiments/ID</c>).</summary>
    public ExperimentStatusView Add(string id, string state = RunStates.Running, string? metrics = null, string? folder = null)
    {
        var view = new ExperimentStatusView(id, state, 3, 10, "clustering", 1200, 5000, 350.2, "rows", metrics,
            new Dictionary<string, string> { ["features"] = "akka.tcp://deepcluster@127.0.0.1:4054" }, folder ?? $"/experiments/{id}", null,
            new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));
        lock (gate) experiments[id] = new Entry { View = view };
        return view;
    }

    public void AppendLog(string id, string text) { lock (gate) experiments[id].Log.Append(text); }

    public void SetState(string id, string state) { lock (gate) experiments[id].View = experiments[id].View with { State = state }; }

    async Task Enter(string call, CancellationToken ct)
    {
        lock (gate) calls.Add(call);
        if (Hang) await Task.Delay(Timeout.Infinite, ct);
        if (Failure is not null) throw Failure;
    }

    Entry Get(string id) => experiments.TryGetValue(id, out var e) ? e : throw new UnknownExperimentException(id);

    public async Task<string> SubmitAsync(TrainConfig config, CancellationToken ct)
    {
        await Enter("submit", ct);
        lock (gate)
        {
            submitted.Add(config);
            var id = $"exp{submitted.Count}";
            Add(id, RunStates.Starting);
            return id;
        }
    }

    public async Task<IReadOnlyList<ExperimentStatusView>> ListAsync(CancellationToken ct)
    {
        await Enter("list", ct);
        lock (gate) return experiments.Values.Select(e => e.View).OrderByDescending(v => v.Id).ToList();
    }

    public async Task<ExperimentStatusView> StatusAsync(string id, CancellationToken ct)
    {
        await Enter("status " + id, ct);
        lock (gate) return Get(id).View;
    }

    async Task<ControlReply> Change(string call, string id, string state, CancellationToken ct)
    {
        await Enter($"{call} {id}", ct);
        lock (gate)
        {
            var e = Get(id);
            e.View = e.View with { State = state };
            return new ControlReply(id, state, $"{id}: {state}");
        }
    }

    public Task<ControlReply> PauseAsync(string id, CancellationToken ct) => Change("pause", id, RunStates.Pausing, ct);
    public Task<ControlReply> ResumeAsync(string id, CancellationToken ct) => Change("resume", id, RunStates.Running, ct);
    public Task<ControlReply> StopAsync(string id, CancellationToken ct) => Change("stop", id, RunStates.Stopped, ct);

    public async Task<LogChunk> LogsAsync(string id, long offset, CancellationToken ct)
    {
        await Enter($"logs {id} {offset}", ct);
        lock (gate)
        {
            var e = Get(id);
            var bytes = Encoding.UTF8.GetBytes(e.Log.ToString());
            var start = (int)Math.Min(offset, bytes.Length);
            var end = Array.LastIndexOf(bytes, (byte)'\n') + 1;   // whole lines only
            if (end <= start) return new LogChunk(id, [], start, e.View.State);
            var lines = Encoding.UTF8.GetString(bytes, start, end - start).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return new LogChunk(id, lines, end, e.View.State);
        }
    }
}
