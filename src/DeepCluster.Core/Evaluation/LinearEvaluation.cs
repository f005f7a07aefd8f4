using System.Diagnostics;
using System.Globalization;
using DeepCluster.Core.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepCluster.Core.Evaluation;

/// <summary>
/// The published <c>eval_linear.py</c>: a <see cref="LinearClassifier"/> on a <see cref="FrozenTrunk"/>, trained with
/// SGD (momentum, weight decay, <see cref="LearningRateDecay"/> per iteration) on shuffled, augmented training images,
/// tested after every epoch (top-1/top-5; the softmax averaged over ten crops with <c>--tencrops</c>); the best top-1
/// is reported. Every epoch ends with a checkpoint in the <see cref="LinearEvalFolder"/>, from which a killed run
/// continues. Every random draw comes from (seed, epoch, position): the classifier's initialisation from the seed, the
/// epoch's order from (seed, epoch), each image's crop and flip from (seed, epoch, position), and the trunk draws
/// nothing (eval mode); so a resumed run ends with the numbers of an uninterrupted one.
/// </summary>
public sealed class LinearEvaluation
{
    /// <summary>Key of the epoch's shuffle stream in <see cref="SampleRng.For"/> (no image position uses it).</summary>
    const long OrderKey = long.MinValue;

    /// <summary>Most bytes of pooled test features kept in memory across epochs (the test transforms are deterministic).</summary>
    public long TestCacheBytes { get; init; } = 1L << 30;

    readonly FrozenTrunk trunk;
    readonly IImageDataset train, test;
    readonly LinearEvalSettings settings;
    readonly LinearEvalFolder folder;
    readonly Device device;
    readonly int classes;
    List<(Tensor Features, Tensor Labels)>? testCache;

    public LinearEvaluation(FrozenTrunk trunk, IImageDataset train, IImageDataset test, int classes, LinearEvalSettings settings,
                            LinearEvalFolder folder, Device device)
    {
        this.trunk = trunk; this.train = train; this.test = test; this.classes = classes;
        this.settings = settings; this.folder = folder; this.device = device;
    }

    /// <summary>The permutation of the training set for <paramref name="epoch"/> (Fisher–Yates on the (seed, epoch) stream).</summary>
    public static int[] Order(int count, long seed, int epoch)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var rng = SampleRng.For(seed, epoch, OrderKey);
        for (int i = count - 1; i > 0; i--)
        {
            int j = rng.NextInt(0, i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>Runs the remaining epochs (from the folder's checkpoint when it has one) and writes the results.</summary>
    public LinearEvalResult Run(ILinearEvalObserver observer, CancellationToken ct = default)
    {
        var layer = trunk.Layer;
        using var classifier = new LinearClassifier(layer.Dim, classes, settings.Seed);
        classifier.to(device);
        using var optimizer = optim.SGD(classifier.parameters(), settings.Lr, settings.Momentum, weight_decay: settings.WeightDecay);
        int start = 0;
        double best = 0, top5AtBest = 0;
        int bestEpoch = -1;
        if (File.Exists(folder.CheckpointPath))
        {
            using var ck = ClassifierCheckpoint.Load(folder.CheckpointPath);
            if (ck.Conv != settings.Conv || ck.Arch != settings.Arch)
                throw new InvalidDataException($"{folder.CheckpointPath}: a classifier for {ck.Arch} conv{ck.Conv}, not {settings.Arch} conv{settings.Conv}.");
            IO.StateDictLoader.LoadInto(classifier, ck.StateDict, strict: true, folder.CheckpointPath);
            ck.Optimizer?.RestoreInto(optimizer);
            (start, best, bestEpoch) = (ck.Epoch, ck.BestPrec1, ck.BestEpoch);
            // Killed between the checkpoint and publishing it as the best: publish it now.
            if (bestEpoch == start - 1) IO.AtomicFile.Publish(folder.CheckpointPath, folder.BestPath);
        }
        var epochs = folder.KeepEpochsBefore(start);
        if (bestEpoch >= 0 && epochs.FirstOrDefault(e => e.Epoch == bestEpoch) is { } b) top5AtBest = b.Top5;
        if (start > 0)
            Say(observer, start >= settings.Epochs
                ? $"{folder.Root}: already ran {start} epoch{(start == 1 ? "" : "s")} of {settings.Epochs}; nothing to do."
                : $"resuming {folder.Root} at epoch {start + 1} of {settings.Epochs} (best top-1 so far {best.ToString("F2", CultureInfo.InvariantCulture)} %)");
        else
            Say(observer, $"linear probe on {trunk.Model.Arch} {layer}; {train.Count} train / {test.Count} test images, {classes} classes");

        var trainTransform = LinearEvalTransforms.Train(trunk.Model.InputSize);
        var testTransform = LinearEvalTransforms.Test(trunk.Model.InputSize, settings.TenCrops);
        using var criterion = nn.CrossEntropyLoss();
        int iterationsPerEpoch = (train.Count + settings.BatchSize - 1) / settings.BatchSize;
        try
        {
            for (int epoch = start; epoch < settings.Epochs; epoch++)
            {
                var clock = Stopwatch.StartNew();
                var (trainLoss, trainTop1, trainTop5, lr, rate) = TrainEpoch(classifier, optimizer, criterion, trainTransform, epoch,
                                                                            iterationsPerEpoch, observer, ct);
                var (testLoss, top1, top5) = TestEpoch(classifier, criterion, testTransform, epoch, observer, ct);
                if (top1 > best) { best = top1; bestEpoch = epoch; top5AtBest = top5; }
                var record = new LinearEvalEpoch
                {
                    Epoch = epoch, TrainLoss = trainLoss, TrainTop1 = trainTop1, TrainTop5 = trainTop5, TestLoss = testLoss,
                    Top1 = top1, Top5 = top5, BestTop1 = best, Lr = lr, Seconds = clock.Elapsed.TotalSeconds, TrainImagesPerSecond = rate,
                };
                // The metrics line first: a kill before the checkpoint drops it again on resume (KeepEpochsBefore).
                folder.Append(record);
                ClassifierCheckpoint.Save(folder.CheckpointPath, epoch + 1, settings.Arch, settings.Conv, classifier, optimizer,
                                          top1, top5, best, bestEpoch);
                if (bestEpoch == epoch) IO.AtomicFile.Publish(folder.CheckpointPath, folder.BestPath);   // checkpoints are replaced by rename, never in place
                epochs.Add(record);
                Say(observer, string.Create(CultureInfo.InvariantCulture,
                    $"epoch {epoch + 1}/{settings.Epochs}: train loss {trainLoss:F4} top-1 {trainTop1:F2} % | test loss {testLoss:F4} " +
                    $"top-1 {top1:F2} % top-5 {top5:F2} % | best {best:F2} % | {clock.Elapsed.TotalSeconds:F0} s"));
            }
        }
        finally
        {
            if (testCache is not null) foreach (var (f, l) in testCache) { f.Dispose(); l.Dispose(); }
            testCache = null;
        }
        var result = new LinearEvalResult(epochs, best, bestEpoch, top5AtBest, start);
        Say(observer, folder.WriteResults(settings, layer, result, classes, train.Count, test.Count));
        return result;
    }

    void Say(ILinearEvalObserver observer, string line)
    {
        folder.Log(line);
        observer.OnLog(line);
    }

    (double Loss, double Top1, double Top5, double Lr, double Rate) TrainEpoch(
        LinearClassifier classifier, SGD optimizer, Loss<Tensor, Tensor, Tensor> criterion, Compose transform, int epoch,
        int iterations, ILinearEvalObserver observer, CancellationToken ct)
    {
        classifier.train();
        var loader = new BatchLoader(train, transform, Order(train.Count, settings.Seed, epoch), settings.BatchSize,
                                     settings.Workers, seed: settings.Seed, epoch: epoch);
        double lossSum = 0, lr = settings.Lr;
        long top1 = 0, top5 = 0, seen = 0;
        var clock = Stopwatch.StartNew();
        observer.OnProgress(new LinearEvalProgress(epoch, LinearEvalPhase.Train, 0, iterations, 0));
        foreach (var batch in loader)
        {
            using var b = batch;
            using var scope = NewDisposeScope();
            ct.ThrowIfCancellationRequested();
            lr = LearningRateDecay.At(settings.Lr, settings.WeightDecay, (long)iterations * epoch + batch.Number);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            var features = trunk.Features(batch.Images.to(device));
            var labels = batch.Labels.to(device);
            var output = classifier.forward(features);
            var loss = criterion.forward(output, labels);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            var k = TopK.Correct(output.detach(), labels, 1, 5);
            top1 += k[0]; top5 += k[1];
            lossSum += loss.item<float>() * batch.Count;
            seen += batch.Count;
            observer.OnProgress(new LinearEvalProgress(epoch, LinearEvalPhase.Train, batch.Number + 1, iterations,
                                                       seen / Math.Max(1e-9, clock.Elapsed.TotalSeconds)));
        }
        return (lossSum / seen, 100.0 * top1 / seen, 100.0 * top5 / seen, lr, seen / Math.Max(1e-9, clock.Elapsed.TotalSeconds));
    }

    (double Loss, double Top1, double Top5) TestEpoch(LinearClassifier classifier, Loss<Tensor, Tensor, Tensor> criterion,
                                                      Compose transform, int epoch, ILinearEvalObserver observer, CancellationToken ct)
    {
        classifier.eval();
        int crops = transform.Crops;
        var batches = testCache is not null ? (IEnumerable<(Tensor, Tensor)>)testCache : ComputeTestFeatures(transform, epoch, observer, ct);
        int total = (test.Count + settings.TestBatchSize - 1) / settings.TestBatchSize, done = 0;
        double lossSum = 0;
        long top1 = 0, top5 = 0, seen = 0;
        var clock = Stopwatch.StartNew();
        using var noGrad = no_grad();
        foreach (var (features, labels) in batches)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var output = classifier.forward(features);
            var n = labels.shape[0];
            Tensor scores, central;
            if (crops > 1)
            {
                var perCrop = output.view(n, crops, -1);
                central = perCrop[.., crops / 2 - 1, ..];    // the centre crop of TenCrop's first five, as published
                scores = output.softmax(1).view(n, crops, -1).mean([1]);
            }
            else scores = central = output;
            var k = TopK.Correct(scores, labels, 1, 5);
            top1 += k[0]; top5 += k[1];
            lossSum += criterion.forward(central, labels).item<float>() * n;
            seen += n;
            if (testCache is not null)
                observer.OnProgress(new LinearEvalProgress(epoch, LinearEvalPhase.Test, ++done, total, seen / Math.Max(1e-9, clock.Elapsed.TotalSeconds)));
        }
        return (lossSum / seen, 100.0 * top1 / seen, 100.0 * top5 / seen);
    }

    /// <summary>
    /// The pooled features of the test set, batch by batch. The test transforms are deterministic, so they are kept for
    /// the next epochs when they fit in <see cref="TestCacheBytes"/>.
    /// </summary>
    IEnumerable<(Tensor Features, Tensor Labels)> ComputeTestFeatures(Compose transform, int epoch, ILinearEvalObserver observer,
                                                                      CancellationToken ct)
    {
        int crops = transform.Crops;
        bool keep = (long)test.Count * crops * trunk.Layer.Dim * sizeof(float) <= TestCacheBytes;
        var kept = keep ? new List<(Tensor, Tensor)>() : null;
        var loader = new BatchLoader(test, transform, null, settings.TestBatchSize, settings.Workers, seed: settings.Seed);
        var clock = Stopwatch.StartNew();
        long seen = 0;
        observer.OnProgress(new LinearEvalProgress(epoch, LinearEvalPhase.Test, 0, loader.BatchCount, 0));
        foreach (var batch in loader)
        {
            using var b = batch;
            ct.ThrowIfCancellationRequested();
            var images = batch.Images.to(device);
            if (crops > 1) images = images.view(-1, images.shape[2], images.shape[3], images.shape[4]);
            var features = trunk.Features(images);
            var labels = batch.Labels.to(device);
            if (!ReferenceEquals(images, batch.Images)) images.Dispose();
            seen += batch.Count;
            observer.OnProgress(new LinearEvalProgress(epoch, LinearEvalPhase.Test, batch.Number + 1, loader.BatchCount,
                                                       seen / Math.Max(1e-9, clock.Elapsed.TotalSeconds)));
            kept?.Add((features, labels));
            yield return (features, labels);
            if (kept is null) { features.Dispose(); labels.Dispose(); }
        }
        if (kept is not null) testCache = kept;
    }
}
