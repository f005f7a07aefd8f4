using DeepCluster.Core.Data;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Core.Report;

/// <summary>
/// The dataset of an experiment as its run opened it (same path, format, split, <c>--limit</c> and
/// <c>--skip-bad-files</c>, so the clusters log's indices name the same images), kept open between reports: a run
/// renders one per epoch and opens its dataset once. Not thread-safe; one per renderer.
/// </summary>
public sealed class ReportDatasets : IDisposable
{
    string? key;
    IImageDataset? dataset;

    /// <summary>The dataset of <paramref name="config"/>; throws what <see cref="DatasetSource.Open"/> throws (naming the path).</summary>
    public IImageDataset Open(TrainConfig config)
    {
        var wanted = string.Join('\n', Path.GetFullPath(config.Data), config.DataFormat, config.Split, config.Limit, config.SkipBadFiles);
        if (dataset is not null && key == wanted) return dataset;
        Dispose();
        dataset = DatasetSource.Open(config.Data, config.DataFormat, config.Split, config.Limit, config.SkipBadFiles);
        key = wanted;
        return dataset;
    }

    public void Dispose()
    {
        (dataset as IDisposable)?.Dispose();
        dataset = null;
        key = null;
    }
}
