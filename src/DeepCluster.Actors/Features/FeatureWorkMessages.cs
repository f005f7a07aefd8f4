using Akka.Actor;
using DeepCluster.Actors.DataLoading;

namespace DeepCluster.Actors.Features;

// The protocol between the feature pass (FeaturePassActor) and its workers (FeatureWorkerActor). Every message is a
// record of strings, numbers and actor references (no tensors, no feature rows: those go through files on the
// experiment folder), so a worker may run on another node.

/// <summary>
/// A worker announces itself to the feature pass, which watches it from then on and gives it a range whenever it
/// has one to give. Sent by the worker when it starts (and after a restart: <paramref name="Started"/>, it holds no
/// range, so a range the pass thought it had goes to another worker) and in answer to <see cref="FeatureWorkersWanted"/>
/// (not <paramref name="Started"/>); a worker on another node sends the same.
/// </summary>
public sealed record WorkerAvailable(IActorRef Worker, bool Started = true);

/// <summary>
/// A feature pass looks for workers (e.g. published to every worker node when the pass starts on a node that took over):
/// a worker answers <paramref name="Pass"/> with <see cref="WorkerAvailable"/>. A worker may serve several passes.
/// </summary>
public sealed record FeatureWorkersWanted(IActorRef Pass);

/// <summary>
/// The feature pass gives a worker the images <paramref name="Start"/> .. <paramref name="Start"/>+<paramref name="Count"/>-1
/// of its job <paramref name="JobId"/>: compute their rows with the model at <paramref name="ModelPath"/> and write them
/// to <paramref name="OutPath"/> (atomically), in <paramref name="Precision"/> (fp32 or bf16). A worker computes one
/// range at a time; its reply asks for the next.
/// </summary>
public sealed record AssignRange(
    string JobId, int Epoch, string ModelPath, string Arch, bool Sobel, DatasetSpec Dataset, int BatchSize, int Workers,
    string? Device, int Start, int Count, string OutPath, string Precision = "fp32");

/// <summary>The worker has computed <paramref name="Rows"/> rows of its range so far (progress; one per batch).</summary>
public sealed record RangeProgress(string JobId, int Start, int Rows);

/// <summary>
/// The range is written: <paramref name="File"/>; <paramref name="Dim"/> features per image; <paramref name="Skipped"/>
/// unreadable images (with --skip-bad-files) whose rows hold their batch's mean. The worker is free for the next range.
/// </summary>
public sealed record RangeComputed(string JobId, FeatureRangeFile File, int Dim, int Skipped);

/// <summary>The range could not be computed (an unreadable image, a wrong model file): the pass fails with <paramref name="Error"/>.</summary>
public sealed record RangeFailed(string JobId, int Start, string Error);

/// <summary>The job is over (done or failed): a worker drops its range of it, if any, without reply, and frees the model.</summary>
public sealed record ReleaseJob(string JobId);
