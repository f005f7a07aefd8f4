namespace DeepCluster.Api;

/// <summary>How <see cref="ControlApiServer"/> behaves beyond <see cref="DeepCluster.Actors.Cluster.ApiSettings"/>.</summary>
public sealed record ControlApiOptions
{
    /// <summary>How long a request waits for the experiments before it is answered 503.</summary>
    public TimeSpan ControlTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where the server's own lines go (a new token written, a failed request); default: standard error.</summary>
    public Action<string> Log { get; init; } = line => Console.Error.WriteLine("deepcluster: " + line);
}
