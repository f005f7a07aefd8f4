using Akka.Actor;

namespace DeepCluster.Actors.DataLoading;

/// <summary>
/// The consumer side of a <see cref="DataLoaderActor"/> stream: opens it, keeps <see cref="Window"/> batches
/// requested ahead (<c>deepcluster.loader.pull-window</c>), and hands each batch to the owning actor in order. One stream at a time.
/// </summary>
public sealed class BatchConsumer(IActorRef loader, int window = 2)
{
    public string? StreamId { get; private set; }
    public int Window { get; } = window;
    public StreamOpened? Opened { get; private set; }

    public void Open(OpenStream open, IActorRef self)
    {
        StreamId = open.StreamId;
        Opened = null;
        loader.Tell(open, self);
    }

    /// <summary>Call on <see cref="StreamOpened"/>: records the size and asks for the first batches.</summary>
    public bool Accept(StreamOpened opened, IActorRef self)
    {
        if (opened.StreamId != StreamId) return false;
        Opened = opened;
        loader.Tell(new PullBatches(opened.StreamId, Window), self);
        return true;
    }

    /// <summary>Call after a batch was used: asks for the next one.</summary>
    public void Consumed(BatchLoaded batch, IActorRef self) => loader.Tell(new PullBatches(batch.StreamId), self);

    public bool Owns(string streamId) => streamId == StreamId;

    public void Close(IActorRef self)
    {
        if (StreamId is not null) loader.Tell(new CloseStream(StreamId), self);
        StreamId = null;
    }
}
