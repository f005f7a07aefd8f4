using Akka.Actor;

namespace DeepCluster.Actors.DataLoading;

// The protocol between the trainer's batch source (DistributedLoaderActor) and the loader workers of worker nodes
// (LoaderWorkerActor). Every message is a record of strings, numbers and actor references, well under Akka.Remote's
// maximum-frame-size: a batch (megabytes) goes through a file on the shared folder (BatchFile), only its path travels.

/// <summary>
/// A loader worker announces itself to a batch source, which watches it from then on: <paramref name="Slots"/> batches
/// it makes at once (its node's cores). Sent when it starts (<paramref name="Started"/>: it holds no batch, so the
/// batches the source thought it had go to another worker) and in answer to <see cref="LoaderWorkersWanted"/>.
/// </summary>
public sealed record LoaderWorkerAvailable(IActorRef Worker, int Slots, bool Started = true);

/// <summary>A batch source looks for loader workers (published to every worker node): each answers <paramref name="Source"/>.</summary>
public sealed record LoaderWorkersWanted(IActorRef Source);

/// <summary>
/// Make batch <paramref name="Number"/> of the epoch that <paramref name="JobId"/> names (its dataset, order and labels
/// files, seed and epoch: the same batch, bit for bit, as the node's own loader makes) and write it to
/// <paramref name="OutPath"/> (<see cref="BatchFile"/>). Answered by <see cref="BatchWritten"/> or <see cref="BatchNotMade"/>.
/// </summary>
public sealed record MakeBatch(
    string JobId, DatasetSpec Dataset, TransformKind Transform, int InputSize, int BatchSize, long Seed, int Epoch,
    string OrderPath, string? LabelsPath, int Number, string OutPath);

/// <summary>
/// Batch <paramref name="Number"/> is in <paramref name="Path"/>; null when every one of its images was unreadable and
/// skipped (with --skip-bad-files), so there is no batch. <paramref name="Skipped"/>: images of it left out.
/// </summary>
public sealed record BatchWritten(string JobId, int Number, string? Path, int Skipped);

/// <summary>The batch could not be made (an unreadable image, a missing order file): the stream fails with <paramref name="Error"/>.</summary>
public sealed record BatchNotMade(string JobId, int Number, string Error);

/// <summary>The stream is over: a worker drops the job's batches still to make, without reply, and forgets its order.</summary>
public sealed record ReleaseBatchJob(string JobId);
