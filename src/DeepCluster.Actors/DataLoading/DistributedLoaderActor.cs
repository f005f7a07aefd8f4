using Akka.Actor;
using Akka.Event;
using DeepCluster.Core.IO;

namespace DeepCluster.Actors.DataLoading;

/// <summary>
/// Where the trainer's batches are made (<c>deepcluster.training.remote-loaders</c>): <c>off</c>, by this node's loader;
/// <c>auto</c>, by loader workers of other nodes when there are any (the trainer's cores then only run SGD), else by
/// this node's loader; <c>on</c>, by loader workers wherever they are (this node's too).
/// </summary>
public enum RemoteLoaders { Off, Auto, On }

/// <summary>
/// The trainer's batch source when loader workers (<see cref="LoaderWorkerActor"/>, on worker nodes) decode and augment
/// its batches. It speaks exactly the <see cref="DataLoaderActor"/> protocol to its consumer (<see cref="OpenStream"/>,
/// <see cref="PullBatches"/>, <see cref="CloseStream"/> in; <see cref="StreamOpened"/>, <see cref="BatchLoaded"/>,
/// <see cref="StreamCompleted"/>, <see cref="StreamFailed"/> out), so the trainer does not know where its batches come
/// from. A stream is served one of two ways, chosen when it opens:
/// <list type="bullet">
/// <item>by this node's <see cref="DataLoaderActor"/>, the messages passed through as they are (mode <c>off</c>, or
/// <c>auto</c> with no loader worker on another node, or a stream without an order file);</item>
/// <item>by loader workers: batch numbers are handed out one at a time, each worker holding up to its slots, never
/// more than <c>deepcluster.training.remote-window</c> batches ahead of the one the consumer is due; each worker writes
/// its batch to a file in the <c>batches</c> folder next to the order file (on the shared folder) and answers with the
/// path; the batch is read, the file deleted, and the batch delivered in order, once. A worker that stops, restarts or
/// holds a batch longer than <c>deepcluster.training.remote-timeout-seconds</c> gives its batches to another worker,
/// or to a loader worker of this node when none is left. Batch b of an epoch is the same bits wherever it is made
/// (<see cref="Core.Data.BatchLoader"/> seeds each image by (seed, epoch, position)), so the run's losses do not change.</item>
/// </list>
/// Workers are found the way the feature pass finds its workers: they announce themselves
/// (<see cref="LoaderWorkerAvailable"/>, in answer to <see cref="LoaderWorkersWanted"/> published by the experiment
/// every few seconds) and are watched from then on.
/// </summary>
public sealed class DistributedLoaderActor : ReceiveActor, IWithTimers
{
    /// <summary>One stream served by loader workers.</summary>
    sealed class Run(OpenStream open, IActorRef consumer)
    {
        public OpenStream Open { get; } = open;
        public IActorRef Consumer { get; } = consumer;
        public string JobId { get; } = Guid.NewGuid().ToString("N")[..12];
        public string Dir { get; } = BatchesDir(open.OrderPath!);
        public bool Opened;
        public int Batches, Next, NextToAssign, Demand, Skipped, Attempts;
        /// <summary>Numbers given back by a lost worker, made again first.</summary>
        public readonly SortedSet<int> Returned = [];
        public readonly Dictionary<int, (IActorRef Worker, string Path, DateTime Since)> Assigned = [];
        public readonly Dictionary<int, BatchWritten> Ready = [];
        /// <summary>Workers given up on in this stream (timed out): their late answers are ignored.</summary>
        public readonly HashSet<IActorRef> Dropped = [];
        public readonly Dictionary<IActorRef, DateTime> LastHeard = [];
        public readonly HashSet<IActorRef> Used = [];
    }

    sealed record TimeoutTick;

    readonly IActorRef loader;
    readonly RemoteLoaders mode;
    readonly int window;
    readonly TimeSpan timeout;
    readonly ILoggingAdapter log = Context.GetLogger();
    /// <summary>Known loader workers and their slots.</summary>
    readonly Dictionary<IActorRef, int> workers = [];
    IActorRef? localMaker;
    string? passedThrough;   // the stream this node's loader serves
    Run? run;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="loader">This node's data loader: serves streams not made remotely, and describes datasets.</param>
    /// <param name="mode">Whether loader workers make the batches (see <see cref="RemoteLoaders"/>); null: the configuration's.</param>
    public DistributedLoaderActor(IActorRef loader, RemoteLoaders? mode = null)
    {
        this.loader = loader;
        var settings = Hosting.DeepClusterSettings.Of(Context.System);
        this.mode = mode ?? settings.RemoteLoadersMode;
        window = settings.RemoteWindow;
        timeout = TimeSpan.FromSeconds(settings.RemoteTimeoutSeconds);
        Receive<OpenStream>(Open);
        Receive<PullBatches>(p => p.StreamId == passedThrough, p => loader.Forward(p));
        Receive<PullBatches>(p => run?.Open.StreamId == p.StreamId, p => { run!.Demand += p.Count; Dispatch(); });
        Receive<CloseStream>(c => c.StreamId == passedThrough, c => { passedThrough = null; loader.Forward(c); });
        Receive<CloseStream>(c => run?.Open.StreamId == c.StreamId, _ => End());
        Receive<PullBatches>(_ => { });
        Receive<CloseStream>(_ => { });
        Receive<DatasetDescribed>(d => run?.JobId == d.RequestId, Described);
        Receive<DatasetUnavailable>(d => run?.JobId == d.RequestId, d => Fail(d.Error));
        Receive<LoaderWorkerAvailable>(OnWorker);
        Receive<Terminated>(t => Lost(t.ActorRef, "stopped"));
        Receive<BatchWritten>(OnWritten);
        Receive<BatchNotMade>(OnNotMade);
        Receive<TimeoutTick>(_ => CheckTimeouts());
    }

    public static Props Props(IActorRef loader) => Akka.Actor.Props.Create(() => new DistributedLoaderActor(loader, null));

    public static Props Props(IActorRef loader, RemoteLoaders mode) => Akka.Actor.Props.Create(() => new DistributedLoaderActor(loader, mode));

    /// <summary>The folder a stream's batch files go to: <c>batches</c> next to its order file (the epoch's work folder).</summary>
    public static string BatchesDir(string orderPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(orderPath))!, "batches");

    /// <summary>Whether <paramref name="worker"/> may make this node's batches: in <c>auto</c>, only a worker of another node.</summary>
    bool Usable(IActorRef worker) => mode == RemoteLoaders.On || !worker.Path.Address.HasLocalScope;

    void Open(OpenStream o)
    {
        End();
        if (passedThrough is not null) loader.Tell(new CloseStream(passedThrough));
        passedThrough = null;
        if (mode == RemoteLoaders.Off || o.OrderPath is null || o.RangeCount is not null ||
            (mode == RemoteLoaders.Auto && !workers.Keys.Any(Usable)))
        {
            passedThrough = o.StreamId;
            loader.Forward(o);
            return;
        }
        var r = run = new Run(o, Sender) { Next = o.StartBatch, NextToAssign = o.StartBatch };
        try
        {
            // A killed run's batch files (and those of a stream that ended before its workers answered) go now.
            if (Directory.Exists(r.Dir))
                foreach (var f in Directory.EnumerateFiles(r.Dir)) File.Delete(f);
            Directory.CreateDirectory(r.Dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail($"{r.Dir}: {e.Message}");
            return;
        }
        loader.Tell(new DescribeDataset(r.JobId, o.Dataset));
    }

    /// <summary>The dataset is there: checks the order against it, tells the consumer the stream's size, starts handing out batches.</summary>
    void Described(DatasetDescribed d)
    {
        var r = run!;
        var o = r.Open;
        try
        {
            var order = NpyFile.ReadInt64(o.OrderPath!);
            foreach (var i in order)
                if ((ulong)i >= (ulong)d.Count)
                    throw new InvalidDataException($"{o.OrderPath}: index {i} outside the dataset {o.Dataset.Path} (0..{d.Count - 1})");
            if (o.LabelsPath is not null && NpyFile.ReadInt64(o.LabelsPath) is { } labels && labels.Length != order.Length)
                throw new InvalidDataException($"{o.LabelsPath}: {labels.Length} labels for {order.Length} positions of {o.OrderPath}");
            if (o.BatchSize <= 0) throw new ArgumentException($"batch size {o.BatchSize}: must be positive");
            r.Batches = (order.Length + o.BatchSize - 1) / o.BatchSize;
            r.Opened = true;
            r.Consumer.Tell(new StreamOpened(o.StreamId, order.Length, r.Batches, d.Count, d.TrueLabels));
            var nodes = Progress.PhaseProgress.NodesOf(workers.Keys.Where(Usable), ((ExtendedActorSystem)Context.System).Provider.DefaultAddress);
            Say($"epoch {o.Epoch}: training batches are made by loader workers on {(nodes.Length == 0 ? "this node" : string.Join(", ", nodes))}");
            Timers.StartPeriodicTimer("timeouts", new TimeoutTick(), TimeSpan.FromSeconds(Math.Clamp(timeout.TotalSeconds / 4, 0.2, 5)));
            Dispatch();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            Fail(e.Message);
        }
    }

    void OnWorker(LoaderWorkerAvailable w)
    {
        if (!workers.ContainsKey(w.Worker)) Context.Watch(w.Worker);
        else if (w.Started) Lost(w.Worker, "restarted");     // started again: the batches it had are lost
        workers[w.Worker] = Math.Max(1, w.Slots);
        // A worker given up on for being silent stays so for the rest of the stream (it answers the look-ups every few
        // seconds whatever its batches do); one that restarted is fresh.
        if (w.Started) run?.Dropped.Remove(w.Worker);
        Dispatch();
    }

    /// <summary>A worker stopped, restarted or timed out: the batches it holds go back, first in line.</summary>
    void Lost(IActorRef worker, string how)
    {
        if (how == "stopped")
        {
            workers.Remove(worker);
            if (worker.Equals(localMaker)) localMaker = null;
        }
        if (run is not { } r) return;
        var held = r.Assigned.Where(a => a.Value.Worker.Equals(worker)).Select(a => a.Key).ToList();
        if (held.Count == 0) return;
        foreach (var n in held)
        {
            r.Assigned.Remove(n);
            r.Returned.Add(n);
        }
        log.Warning("loader worker {0} {1} holding batch(es) {2}; another worker makes them", worker.Path, how, string.Join(", ", held.Order()));
        Say($"epoch {r.Open.Epoch}: a loader worker {how} holding training batch(es) {string.Join(", ", held.Order())}; another makes them");
        Dispatch();
    }

    /// <summary>Delivers what is due, then gives each worker with a free slot the next batch within the window.</summary>
    void Dispatch()
    {
        if (run is not { Opened: true } r) return;
        if (!Deliver(r)) return;
        var usable = workers.Where(w => Usable(w.Key) && !r.Dropped.Contains(w.Key)).ToList();
        if (usable.Count == 0 && HasWork(r))
        {
            // No worker is left for this stream: this node makes the batches (with the stream's decoder count).
            localMaker ??= Context.Watch(Context.ActorOf(LoaderWorkerActor.Props(ActorRefs.Nobody,
                Math.Clamp(r.Open.Workers, 1, Environment.ProcessorCount)), "local-loader-worker"));
            usable = [new(localMaker, Math.Clamp(r.Open.Workers, 1, Environment.ProcessorCount))];
        }
        var holding = r.Assigned.Values.GroupBy(a => a.Worker).ToDictionary(g => g.Key, g => g.Count());
        bool gave;
        do
        {
            gave = false;
            foreach (var (w, slots) in usable)
            {
                if (holding.GetValueOrDefault(w) >= slots || !TryTake(r, out var n)) continue;
                holding[w] = holding.GetValueOrDefault(w) + 1;
                Assign(r, w, n);
                gave = true;
            }
        } while (gave);
    }

    static bool HasWork(Run r) => r.Returned.Count > 0 || r.NextToAssign < r.Batches;

    /// <summary>The next batch to make: one given back, else the next new one within the window.</summary>
    bool TryTake(Run r, out int number)
    {
        if (r.Returned.Count > 0)
        {
            number = r.Returned.Min;
            r.Returned.Remove(number);
            return true;
        }
        number = r.NextToAssign;
        if (number >= r.Batches || number >= r.Next + window) return false;
        r.NextToAssign++;
        return true;
    }

    void Assign(Run r, IActorRef worker, int number)
    {
        var o = r.Open;
        var path = Path.Combine(r.Dir, $"{r.JobId}-{number:D7}-{r.Attempts++}.batch");
        r.Assigned[number] = (worker, path, DateTime.UtcNow);
        r.LastHeard.TryAdd(worker, DateTime.UtcNow);
        r.Used.Add(worker);
        worker.Tell(new MakeBatch(r.JobId, o.Dataset, o.Transform, o.InputSize, o.BatchSize, o.Seed, o.Epoch, o.OrderPath!, o.LabelsPath,
            number, path));
    }

    void OnWritten(BatchWritten b)
    {
        if (run is not { } r || r.JobId != b.JobId || !r.Assigned.TryGetValue(b.Number, out var a) ||
            !a.Worker.Equals(Sender) || (b.Path is not null && b.Path != a.Path))
        {
            Discard(b.Path);   // a batch given to another worker meanwhile, or of a stream already over
            return;
        }
        r.Assigned.Remove(b.Number);
        r.LastHeard[Sender] = DateTime.UtcNow;
        r.Ready[b.Number] = b;
        Dispatch();
    }

    void OnNotMade(BatchNotMade f)
    {
        if (run is { } r && r.JobId == f.JobId && r.Assigned.TryGetValue(f.Number, out var a) && a.Worker.Equals(Sender)) Fail(f.Error);
    }

    /// <summary>
    /// Sends the consumer every batch that is due and ready, in order, as far as it asked; completes the stream after
    /// the last. False when the stream ended (completed or failed).
    /// </summary>
    bool Deliver(Run r)
    {
        while (r.Next < r.Batches && r.Ready.TryGetValue(r.Next, out var b) && (b.Path is null || r.Demand > 0))
        {
            r.Ready.Remove(r.Next);
            r.Skipped += b.Skipped;
            r.Next++;
            if (b.Path is null) continue;    // every image of it was skipped: no batch, as with the local loader
            BatchFile.Content content;
            try { content = BatchFile.Read(b.Path); }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Fail($"batch {b.Number}: {(e is FileNotFoundException ? $"{b.Path}: missing" : e.Message)}");
                return false;
            }
            Discard(b.Path);
            r.Demand--;
            r.Consumer.Tell(Loaded(r.Open.StreamId, content));
        }
        if (r.Next < r.Batches) return true;
        r.Consumer.Tell(new StreamCompleted(r.Open.StreamId, r.Skipped));
        End();
        return false;
    }

    /// <summary>The one place a <see cref="BatchLoaded"/> is made from a batch file's content.</summary>
    static BatchLoaded Loaded(string streamId, BatchFile.Content c) =>
        new(streamId, c.Number, c.Images, c.Shape, c.Labels, c.Indices);

    void CheckTimeouts()
    {
        if (run is not { } r) return;
        var now = DateTime.UtcNow;
        var late = r.Assigned.Values
            .Where(a => !a.Worker.Equals(localMaker))   // this node's own: nobody else would make its batches sooner
            .Where(a => now - a.Since > timeout && now - r.LastHeard.GetValueOrDefault(a.Worker, a.Since) > timeout)
            .Select(a => a.Worker).Distinct().ToList();
        foreach (var w in late)
        {
            r.Dropped.Add(w);
            w.Tell(new ReleaseBatchJob(r.JobId));
            Lost(w, $"sent nothing for {timeout.TotalSeconds:F0} s");
        }
    }

    void Fail(string error)
    {
        if (run is not { } r) return;
        log.Error("batch stream failed: {0}", error);
        r.Consumer.Tell(new StreamFailed(r.Open.StreamId, error));
        End();
    }

    /// <summary>Ends the current stream, if any: its workers drop its batches, and batch files not delivered go.</summary>
    void End()
    {
        if (run is not { } r) return;
        run = null;
        Timers.Cancel("timeouts");
        foreach (var w in r.Used) w.Tell(new ReleaseBatchJob(r.JobId));
        foreach (var b in r.Ready.Values) Discard(b.Path);
    }

    /// <summary>A line for the experiment's log: to the parent (the pipeline supervisor), which reports it up its tree.</summary>
    void Say(string text) => Context.Parent.Tell(new Progress.ExperimentLog(text));

    static void Discard(string? path)
    {
        if (path is null) return;
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* the next open removes it */ }
    }

    /// <summary>A restart keeps the workers: they are announced again to the new instance (the stream itself is lost).</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        End();
        foreach (var (w, slots) in workers)
            if (!w.Equals(localMaker)) Self.Tell(new LoaderWorkerAvailable(w, slots, Started: false));
        base.PreRestart(reason, message);
    }
}
