using Akka.Actor;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// Stands in for a pipeline actor: forwards every message to the real actor (its child), except messages of
/// <c>trigger</c>'s type, on which it throws, as an unhandled bug (an OverflowException, a TorchSharp error) would.
/// </summary>
public sealed class FaultyActor : ReceiveActor
{
    public FaultyActor(Props real, Type trigger)
    {
        var inner = Context.ActorOf(real, "real");
        ReceiveAny(m =>
        {
            if (trigger.IsInstanceOfType(m)) throw new InvalidOperationException($"injected fault on {trigger.Name}");
            inner.Forward(m);
        });
    }

    public static Props Props(Props real, Type trigger) => Akka.Actor.Props.Create(() => new FaultyActor(real, trigger));
}
