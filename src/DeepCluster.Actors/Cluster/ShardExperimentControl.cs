using System.Text;
using Akka.Actor;
using DeepCluster.Actors.Control;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Cluster;

/// <summary>
/// <see cref="IExperimentControl"/> over the shard region of <see cref="ExperimentEntity"/>: every request is a message
/// to the experiment's entity, wherever the cluster placed it, answered within <see cref="Timeout"/>. An id is known
/// when its folder (<c>ROOT/ID/experiment.id</c>) exists; unknown ids never reach the region (a message would start,
/// and remember, an entity for them).
/// </summary>
public sealed class ShardExperimentControl(IActorRef region, string root) : IExperimentControl
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    /// <summary>The most log a single request returns; a follower asks again from the offset it got.</summary>
    const int MaxLogBytes = 256 * 1024;

    public async Task<string> SubmitAsync(TrainConfig config, CancellationToken ct)
    {
        config.Validate();
        var id = ExperimentFolder.NewId();
        var view = await Ask<ExperimentStatusView>(new SubmitExperiment(id, config), id, ct, Timeout * 3);
        return view.Id;
    }

    public async Task<IReadOnlyList<ExperimentStatusView>> ListAsync(CancellationToken ct)
    {
        if (!Directory.Exists(root)) return [];
        var ids = Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>().Where(Known).ToList();
        var views = await Task.WhenAll(ids.Select(id => StatusAsync(id, ct)));
        return views.OrderByDescending(v => v.Submitted).ToList();
    }

    public Task<ExperimentStatusView> StatusAsync(string id, CancellationToken ct) =>
        Ask<ExperimentStatusView>(new GetExperimentStatus(CheckKnown(id)), id, ct);

    public Task<ControlReply> PauseAsync(string id, CancellationToken ct) => Control(id, ControlAction.Pause, ct);
    public Task<ControlReply> ResumeAsync(string id, CancellationToken ct) => Control(id, ControlAction.Resume, ct);
    public Task<ControlReply> StopAsync(string id, CancellationToken ct) => Control(id, ControlAction.Stop, ct);

    Task<ControlReply> Control(string id, ControlAction action, CancellationToken ct) =>
        Ask<ControlReply>(new ControlExperiment(CheckKnown(id), action), id, ct);

    public async Task<LogChunk> LogsAsync(string id, long offset, CancellationToken ct)
    {
        var status = await StatusAsync(id, ct);
        var path = new ExperimentFolder(Path.Combine(root, id)).LogPath;
        if (offset < 0) throw new ArgumentException($"offset {offset}: must be 0 or more");
        if (!File.Exists(path)) return new LogChunk(id, [], 0, status.State);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (offset > stream.Length) offset = 0;   // the log was replaced: start over
        stream.Position = offset;
        var buffer = new byte[(int)Math.Min(MaxLogBytes, stream.Length - offset)];
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
        var end = Array.LastIndexOf(buffer, (byte)'\n', Math.Max(0, read - 1));   // whole lines only
        if (end < 0) return new LogChunk(id, [], offset, status.State);
        var lines = Encoding.UTF8.GetString(buffer, 0, end).Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        return new LogChunk(id, lines, offset + end + 1, status.State);
    }

    bool Known(string id) => ExperimentFolder.IsId(id) && File.Exists(Path.Combine(root, id, "experiment.id"));

    string CheckKnown(string id) => Known(id) ? id : throw new UnknownExperimentException(id);

    async Task<T> Ask<T>(IExperimentCommand message, string id, CancellationToken ct, TimeSpan? timeout = null)
    {
        object reply;
        try { reply = await region.Ask<object>(message, timeout ?? Timeout, ct); }
        catch (AskTimeoutException)
        {
            throw new TimeoutException($"experiment {id} did not answer within {(timeout ?? Timeout).TotalSeconds:F0} s " +
                                       "(is a coordinator node up?)");
        }
        return reply switch
        {
            T answer => answer,
            ExperimentUnknown => throw new UnknownExperimentException(id),
            Status.Failure f => throw f.Cause,
            _ => throw new InvalidOperationException($"experiment {id} answered {reply.GetType().Name}"),
        };
    }
}
