using Akka.Actor;
using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Progress;

namespace DeepCluster.Actors.Hosting;

/// <summary>Watch this experiment actor: if it stops before the run ends, the run ends with a message.</summary>
public sealed record WatchExperiment(IActorRef Experiment);

/// <summary>
/// The host's end of the event stream: hands progress and log lines to the observer and completes the run on
/// <see cref="ExperimentCompleted"/>, <see cref="ExperimentFailed"/> or the death of the experiment actor.
/// Subscribed before any pipeline actor exists (see <see cref="Subscribe"/>), so it cannot miss an early failure.
/// </summary>
public sealed class RunListener : ReceiveActor
{
    /// <summary>Sent to itself on <see cref="Terminated"/>: queued behind any ExperimentFailed the experiment published before it stopped.</summary>
    sealed record ExperimentGone;

    public RunListener(IExperimentObserver observer, TaskCompletionSource<ExperimentOutcome> done)
    {
        Receive<PhaseProgress>(observer.OnProgress);
        Receive<ExperimentLog>(l => observer.OnLog(l.Text));
        Receive<ExperimentCompleted>(c => done.TrySetResult(new ExperimentOutcome(true, $"{c.Epochs} epoch(s) done in {c.Folder}")));
        Receive<ExperimentFailed>(f => done.TrySetResult(new ExperimentOutcome(false, f.Error)));
        Receive<WatchExperiment>(w => Context.Watch(w.Experiment));
        Receive<Terminated>(_ => Self.Tell(new ExperimentGone()));
        Receive<ExperimentGone>(_ => done.TrySetResult(new ExperimentOutcome(false,
            "the experiment stopped before the run ended; its journal keeps the last durable point: run the same command to continue.")));
    }

    /// <summary>Creates the listener and subscribes it, synchronously, to everything the pipeline publishes.</summary>
    public static IActorRef Subscribe(ActorSystem system, IExperimentObserver observer, TaskCompletionSource<ExperimentOutcome> done)
    {
        var listener = system.ActorOf(Props.Create(() => new RunListener(observer, done)), "console");
        foreach (var t in new[] { typeof(PhaseProgress), typeof(ExperimentLog), typeof(ExperimentCompleted), typeof(ExperimentFailed) })
            system.EventStream.Subscribe(listener, t);
        return listener;
    }
}
