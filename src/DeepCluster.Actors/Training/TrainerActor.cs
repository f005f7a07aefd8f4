using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Actors.Training;

/// <summary>
/// Creates the experiment's first model (seeded; with <c>--resume</c>, loaded from that checkpoint without its head)
/// and saves it to <paramref name="OutPath"/>.
/// </summary>
public sealed record InitializeModel(string Arch, bool Sobel, int Seed, SgdSettings Sgd, string? Device, string? ResumePath, string OutPath);

/// <summary>The first model is in <paramref name="Path"/>; training starts at <paramref name="StartEpoch"/> (from --resume, else 0).</summary>
public sealed record ModelInitialized(string Path, int? ResumedEpoch);

/// <summary>
/// Trains one epoch on the sampled order, starting from the model saved at <paramref name="StartModelPath"/>
/// (from iteration <paramref name="StartIteration"/> when resuming inside the epoch, with the loss so far).
/// <paramref name="FromCheckpoint"/>: that file is an iteration checkpoint of this epoch, whose head (already this
/// epoch's, even at iteration 0) is kept; otherwise it is the model the epoch starts from and gets a fresh head.
/// A checkpoint is written every <paramref name="CheckpointEvery"/> iterations (counted over all epochs, as main.py).
/// <paramref name="Precision"/>: the forward pass's arithmetic, fp32 or bf16 (<c>--precision</c>).
/// </summary>
public sealed record TrainEpoch(
    int Epoch, string Arch, bool Sobel, SgdSettings Sgd, string? Device, DatasetSpec Dataset, int BatchSize, int Workers,
    long Seed, string OrderPath, string LabelsPath, int Clusters, string StartModelPath, int StartIteration,
    double LossSum, long LossCount, int CheckpointEvery, string CheckpointsDir, string EpochModelPath,
    bool FromCheckpoint = false, string Precision = "fp32")
{
    /// <summary>Whether the epoch continues from one of its own iteration checkpoints.</summary>
    public bool Resumes => FromCheckpoint || StartIteration > 0;
}

/// <summary>A checkpoint of iteration <paramref name="Iteration"/> (not yet trained) of the epoch was written.</summary>
public sealed record IterationCheckpointed(int Epoch, int Iteration, string Path, double LossSum, long LossCount);

/// <summary>The epoch's training finished; the model is in <paramref name="ModelPath"/>.</summary>
public sealed record EpochTrained(int Epoch, string ModelPath, double Loss, double Seconds, double ImagesPerSecond, int Iterations);

public sealed record TrainingFailed(int Epoch, string Error);

/// <summary>Stop the epoch at the next batch, after an iteration checkpoint (a pause of the experiment).</summary>
public sealed record PauseTraining(int Epoch);

/// <summary>The epoch stopped before <paramref name="Iteration"/>, whose checkpoint was reported just before this.</summary>
public sealed record TrainingPaused(int Epoch, int Iteration);

/// <summary>
/// The SGD steps. Owns the live model and the trunk optimiser (its momentum carries across epochs); every other
/// actor sees the model only through the files it writes. Its random draws are seeded from (seed, epoch) for the
/// head and (seed, epoch, iteration) for dropout (<see cref="TrainingSeeds"/>), so continuing from a file gives the
/// same numbers as continuing in memory. A loss or weight that is no longer finite stops the epoch before anything
/// after the last good checkpoint is saved.
/// </summary>
public sealed class TrainerActor : ReceiveActor
{
    readonly BatchConsumer consumer;
    readonly ILoggingAdapter log = Context.GetLogger();
    DeepClusterNet? model;
    Trainer? trainer;
    string? stateFile;          // the file the in-memory state equals
    TrainEpoch? job;
    IActorRef? requester;
    Stopwatch clock = new();
    int iteration, batchesPerEpoch;
    long images;
    double lossSum;
    long lossCount;
    bool pauseRequested;

    public TrainerActor(IActorRef loader)
    {
        consumer = new BatchConsumer(loader, Hosting.DeepClusterSettings.Of(Context.System).PullWindow);
        Receive<InitializeModel>(Initialize);
        Receive<TrainEpoch>(Start);
        Receive<PauseTraining>(p => job?.Epoch == p.Epoch && consumer.StreamId is not null, _ => pauseRequested = true);
        Receive<StreamOpened>(o => consumer.Accept(o, Self));
        Receive<BatchLoaded>(b => consumer.Owns(b.StreamId), OnBatch);
        Receive<BatchLoaded>(b => b.Release());      // of a stream closed since (a pause, a failure)
        Receive<StreamCompleted>(c => consumer.Owns(c.StreamId), _ => Finish());
        Receive<StreamFailed>(f => consumer.Owns(f.StreamId), f => Fail(f.Error));
    }

    public static Props Props(IActorRef loader) => Akka.Actor.Props.Create(() => new TrainerActor(loader));

    void Initialize(InitializeModel msg)
    {
        try
        {
            var device = TorchRuntime.ResolveDevice(msg.Device);
            using (manual_seed(msg.Seed)) { }        // disposes the returned handle (not the generator) on this thread
            Reset(ModelFactory.Create(msg.Arch, msg.Sobel, numClasses: 0).to(device), msg.Sgd, device);
            int? resumed = null;
            if (msg.ResumePath is not null)
                resumed = ModelFiles.Restore(msg.ResumePath, model!, trainer!.Optimizer, includeHead: false, expectedArch: msg.Arch);
            ModelFiles.Save(msg.OutPath, model!, trainer!.Optimizer, epoch: resumed ?? 0, msg.Arch);
            stateFile = msg.OutPath;
            Sender.Tell(new ModelInitialized(msg.OutPath, resumed));
        }
        catch (Exception e) { Sender.Tell(new TrainingFailed(-1, e.Message)); }
    }

    void Reset(DeepClusterNet m, SgdSettings sgd, Device device, Precision precision = Precision.Fp32)
    {
        trainer?.Dispose();
        model?.Dispose();
        model = m;
        trainer = new Trainer(m, sgd, device, precision);
    }

    void Start(TrainEpoch msg)
    {
        try
        {
            job = msg; requester = Sender; pauseRequested = false;
            var device = TorchRuntime.ResolveDevice(msg.Device);
            var headSeed = TrainingSeeds.Head(msg.Seed, msg.Epoch);
            var precision = PrecisionNames.Parse(msg.Precision);
            if (model is null || stateFile != msg.StartModelPath || msg.Resumes || trainer!.Precision != precision)
            {
                Reset(ModelFactory.Create(msg.Arch, msg.Sobel, numClasses: 0).to(device), msg.Sgd, device, precision);
                trainer!.ResetHead(msg.Clusters, headSeed);
                ModelFiles.Restore(msg.StartModelPath, model!, trainer.Optimizer, includeHead: msg.Resumes, expectedArch: msg.Arch);
            }
            else trainer!.ResetHead(msg.Clusters, headSeed);
            iteration = msg.StartIteration;
            lossSum = msg.LossSum; lossCount = msg.LossCount; images = 0;
            clock = Stopwatch.StartNew();
            consumer.Open(new OpenStream($"train-{msg.Epoch}-{Guid.NewGuid():N}", msg.Dataset, TransformKind.Training,
                model!.InputSize, msg.BatchSize, msg.Workers, msg.Seed, msg.Epoch, msg.OrderPath, msg.LabelsPath,
                StartBatch: msg.StartIteration), Self);
        }
        catch (Exception e) { Fail(e.Message); }
    }

    void OnBatch(BatchLoaded b)
    {
        try { Train(b); }
        finally { b.Release(); }     // the batch's images go back to the loader's pool (no tensor views them any more)
    }

    void Train(BatchLoaded b)
    {
        try
        {
            batchesPerEpoch = consumer.Opened!.Batches;
            // The batch's own number: a batch whose every image was skipped (--skip-bad-files) never arrives, and the
            // iteration must still name the same batch (and dropout seed) as in a run resumed after it.
            iteration = b.Number;
            long n = (long)batchesPerEpoch * job!.Epoch + iteration;
            if (pauseRequested) { Pause(n); return; }
            if (n % job.CheckpointEvery == 0 && !(iteration == job.StartIteration && job.Resumes) &&
                !Checkpoint($"checkpoint_{n / job.CheckpointEvery}.pth.tar"))
            {
                consumer.Close(Self);
                return;
            }
            float loss;
            using (var x = b.ImagesTensor())
            using (var y = tensor(b.Labels))
                loss = trainer!.Step(x, y, TrainingSeeds.Dropout(job.Seed, job.Epoch, iteration));
            if (!float.IsFinite(loss))
            {
                consumer.Close(Self);
                Fail($"the loss became {(float.IsNaN(loss) ? "NaN" : "infinite")} at iteration {iteration} {TooLarge}");
                return;
            }
            lossSum += loss * b.Labels.Length;
            lossCount += b.Labels.Length;
            images += b.Labels.Length;
            iteration++;
            consumer.Consumed(b, Self);
            requester.Tell(new PhaseProgress(job.Epoch, Phase.Training, iteration, batchesPerEpoch,
                images / Math.Max(1e-9, clock.Elapsed.TotalSeconds), "img", $"loss {lossSum / Math.Max(1, lossCount):F3}"));
        }
        catch (Exception e) { consumer.Close(Self); Fail(e.Message); }
    }

    /// <summary>
    /// A pause: the state before this batch is saved as an iteration checkpoint (continuing from it trains the same
    /// numbers as not stopping, like any checkpoint) and the stream is closed.
    /// </summary>
    void Pause(long n)
    {
        consumer.Close(Self);
        pauseRequested = false;
        if (Checkpoint($"pause_{n}.pth.tar")) requester.Tell(new TrainingPaused(job!.Epoch, iteration));
    }

    /// <summary>
    /// Saves the state before the current iteration as <paramref name="name"/> in the checkpoints folder and reports it;
    /// false (the epoch failed) when a weight is no longer finite, so nothing diverged is ever saved.
    /// </summary>
    bool Checkpoint(string name)
    {
        if (Diverged() is { } diverged) { Fail(diverged); return false; }
        var path = Path.Combine(job!.CheckpointsDir, name);
        ModelFiles.Save(path, model!, trainer!.Optimizer, job.Epoch + 1, job.Arch);
        requester.Tell(new IterationCheckpointed(job.Epoch, iteration, path, lossSum, lossCount));
        return true;
    }

    void Finish()
    {
        try
        {
            if (Diverged() is { } diverged) { Fail(diverged); return; }
            ModelFiles.Save(job!.EpochModelPath, model!, trainer!.Optimizer, job.Epoch + 1, job.Arch);
            stateFile = job.EpochModelPath;
            var seconds = clock.Elapsed.TotalSeconds;
            requester.Tell(new EpochTrained(job.Epoch, job.EpochModelPath, lossSum / Math.Max(1, lossCount), seconds,
                images / Math.Max(1e-9, seconds), iteration));
        }
        catch (Exception e) { Fail(e.Message); }
    }

    const string TooLarge = "(learning rate / weight decay too large?)";

    /// <summary>Why the live model must not be saved (a weight is no longer finite), or null when it may.</summary>
    string? Diverged() => trainer!.FirstNonFinite() is { } name
        ? $"the weights became non-finite ({name}) before iteration {iteration} {TooLarge}"
        : null;

    void Fail(string error)
    {
        log.Error("training failed: {0}", error);
        stateFile = null;   // the in-memory state can no longer be trusted
        requester?.Tell(new TrainingFailed(job?.Epoch ?? -1, error));
    }

    protected override void PreStart() => TorchRuntime.FlushDenormals();   // this actor's own thread

    protected override void PostStop()
    {
        trainer?.Dispose();
        model?.Dispose();
        base.PostStop();
    }
}
