using System.Diagnostics;
using System.Globalization;
using DeepCluster.Core.Data;
using DeepCluster.Core.Metrics;
using DeepCluster.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepCluster.Core.Evaluation.Voc;

/// <summary>
/// The published <c>eval_voc_classif.py</c>: a 20-way <c>top_layer</c> on the evaluated network, fc6–fc8 (and the
/// top layer) re-initialised N(0, 0.01) with bias 0.1, then SGD on the multi-label BCE-with-logits loss (difficult
/// labels masked out, summed over classes, averaged over the batch) for <c>--nit</c> iterations, either of fc6–fc8
/// alone (conv layers frozen, BatchNorm statistics always frozen) or of everything; then every image of the training
/// and the test split scored by the sum of its logits over 10 crops, and per-class AP (<see
/// cref="ClassificationAveragePrecision"/>, difficult images excluded) and mAP reported. Every random draw comes
/// from (seed, iteration): the batch of iteration <c>t</c> is batch <c>t mod B</c> of epoch <c>t div B</c>
/// (B batches per epoch) in the (seed, epoch) order, each image's flip and crop from (seed, epoch, position), the
/// dropout masks from (seed, t), the test crops from (seed, crop); so a run resumed from a checkpoint ends with the
/// numbers of an uninterrupted one.
/// </summary>
public sealed class VocFineTuning
{
    /// <summary>Iterations between loss lines in the log (as the published script prints).</summary>
    const int LogEvery = 25;

    readonly DeepClusterNet model;
    readonly VocDataset train, test;
    readonly VocEvalSettings settings;
    readonly VocEvalFolder folder;
    readonly Device device;
    readonly nn.Module<Tensor, Tensor> features;
    readonly List<Parameter> trained;

    /// <summary>
    /// Puts the 20-way head on <paramref name="model"/> (a trunk from <see cref="EvaluatedModel.Load"/>, on
    /// <paramref name="device"/>), re-initialises fc6–fc8 from the seed and freezes what <paramref name="settings"/> says.
    /// </summary>
    public VocFineTuning(DeepClusterNet model, VocDataset train, VocDataset test, VocEvalSettings settings, VocEvalFolder folder, Device device)
    {
        this.model = model; this.train = train; this.test = test; this.settings = settings; this.folder = folder; this.device = device;
        var children = model.named_children().ToDictionary(c => c.name, c => c.module);
        features = (nn.Module<Tensor, Tensor>)children["features"];
        var classifier = children["classifier"];
        using (random.manual_seed(settings.Seed)) { }
        var head = nn.Linear(model.FeatureDim, VocDataset.ClassNames.Length);
        using (no_grad())
        {
            foreach (var linear in classifier.modules().OfType<Linear>().Append(head))
            {
                linear.weight!.normal_(0, 0.01);
                linear.bias!.fill_(0.1);
            }
        }
        model.SetTopLayer(head);
        model.to(device);
        foreach (var p in features.parameters()) p.requires_grad = !settings.Fc6To8;
        if (settings.Fc6To8 && settings.TrainBatchNorm)
            foreach (var bn in features.modules().OfType<BatchNorm2d>())
                foreach (var p in bn.parameters()) p.requires_grad = true;
        trained = model.parameters().Where(p => p.requires_grad).ToList();
    }

    /// <summary>The parameters SGD updates, in the network's order.</summary>
    public IReadOnlyList<Parameter> TrainedParameters => trained;

    /// <summary>
    /// The published loss: BCE with logits per image and class, 0 where the label is difficult, summed and divided by
    /// the batch size. <paramref name="labels"/> is batch × 20 of 1, −1, 0.
    /// </summary>
    public static Tensor MaskedLoss(Tensor logits, Tensor labels)
    {
        var target = labels.eq(1).to(logits.dtype);
        var perLabel = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction: nn.Reduction.None);
        return perLabel.masked_fill(labels.eq(0), 0).sum() / logits.shape[0];
    }

    /// <summary>The labels of dataset images <paramref name="indices"/> as an images × 20 int8 tensor.</summary>
    static Tensor Labels(VocDataset data, int[] indices)
    {
        int k = VocDataset.ClassNames.Length;
        var rows = new sbyte[indices.Length * k];
        for (int i = 0; i < indices.Length; i++) Array.Copy(data.Targets, indices[i] * k, rows, i * k, k);
        return tensor(rows.Select(v => (byte)v).ToArray(), [indices.Length, k]).to(int8);
    }

    /// <summary>Runs the remaining iterations (from the folder's checkpoint when it has one), evaluates and writes the results.</summary>
    public VocEvalResult Run(ILinearEvalObserver observer, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        using var optimizer = optim.SGD(trained, settings.Lr, VocEvalSettings.Momentum, weight_decay: settings.WeightDecay);
        int start = 0;
        if (File.Exists(folder.CheckpointPath))
        {
            using var ck = VocCheckpoint.Load(folder.CheckpointPath);
            if (ck.Arch != model.Arch || ck.Fc6To8 != settings.Fc6To8)
                throw new InvalidDataException($"{folder.CheckpointPath}: a fine-tuning of {ck.Arch} (fc6_8 {(ck.Fc6To8 ? 1 : 0)}), not of {model.Arch} (fc6_8 {(settings.Fc6To8 ? 1 : 0)}).");
            if (ck.Iteration > settings.Nit)
                throw new ArgumentException($"--nit {settings.Nit}: the run in {folder.Root} already trained {ck.Iteration} iterations; give --nit {ck.Iteration} or more.");
            IO.StateDictLoader.LoadInto(model, ck.StateDict, strict: true, folder.CheckpointPath);
            ck.Optimizer?.RestoreInto(optimizer);
            start = ck.Iteration;
        }
        var mode = settings.Fc6To8 ? (settings.TrainBatchNorm ? "fc6-8 and BatchNorm" : "fc6-8") : "all layers";
        Say(observer, start > 0
            ? $"resuming {folder.Root} at iteration {start} of {settings.Nit}"
            : $"fine-tuning {mode} of {model.Arch} on VOC2007 {settings.Split} ({train.Count} images, {train.DifficultCount} difficult labels) for {settings.Nit} iterations");
        if (train.Pack is { } pack) Say(observer, $"images from the {pack}");
        double? finalLoss = Train(optimizer, start, observer, ct);
        Say(observer, $"scoring {settings.Split} and {settings.TestSplit} on {(settings.EvalRandomCrops ? "10 random crops" : "TenCrop")}");
        var trainScore = Evaluate(train, 1, observer, ct);
        var testScore = Evaluate(test, 2, observer, ct);
        var result = new VocEvalResult(settings.Nit, trainScore, testScore, finalLoss, clock.Elapsed.TotalSeconds, start);
        Say(observer, folder.WriteResults(settings, result));
        return result;
    }

    void Say(ILinearEvalObserver observer, string line)
    {
        folder.Log(line);
        observer.OnLog(line);
    }

    /// <summary>Iterations <paramref name="start"/> to <c>--nit</c>; returns the mean loss of the last <see cref="LogEvery"/> (null when none ran).</summary>
    double? Train(SGD optimizer, int start, ILinearEvalObserver observer, CancellationToken ct)
    {
        int nit = settings.Nit, perEpoch = (train.Count + settings.BatchSize - 1) / settings.BatchSize;
        var transform = VocTransforms.Random(model.InputSize, settings.MinScale, settings.MaxScale);
        var recent = new Queue<double>();
        var clock = Stopwatch.StartNew();
        long seen = 0;
        int it = start;
        model.train();
        features.eval();                       // BatchNorm always uses its global statistics, as published
        observer.OnProgress(new LinearEvalProgress(0, LinearEvalPhase.Train, it, Math.Max(1, nit), 0, "fine-tune"));
        while (it < nit)
        {
            int epoch = it / perEpoch;
            var loader = new BatchLoader(train, transform, LinearEvaluation.Order(train.Count, settings.Seed, epoch), settings.BatchSize,
                                         settings.Workers, seed: settings.Seed, epoch: epoch, startBatch: it % perEpoch);
            foreach (var batch in loader)
            {
                using var b = batch;
                using var scope = NewDisposeScope();
                ct.ThrowIfCancellationRequested();
                foreach (var group in optimizer.ParamGroups) group.LearningRate = settings.LearningRateAt(it);
                SeedDropout(it);
                var output = model.forward(batch.Images.to(device));
                var loss = MaskedLoss(output, Labels(train, batch.Indices).to(device));
                optimizer.zero_grad();
                loss.backward();
                nn.utils.clip_grad_norm_(trained, VocEvalSettings.ClipNorm);
                optimizer.step();
                double value = loss.item<float>();
                recent.Enqueue(value);
                if (recent.Count > LogEvery) recent.Dequeue();
                seen += batch.Count;
                it++;
                double rate = seen / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                observer.OnProgress(new LinearEvalProgress(0, LinearEvalPhase.Train, it, nit, rate, "fine-tune"));
                if (it % LogEvery == 0 || it == nit)
                    folder.Log(string.Create(CultureInfo.InvariantCulture,
                        $"iteration {it}/{nit}: loss {value:F4} (mean of last {recent.Count} {recent.Average():F4}), lr {settings.LearningRateAt(it - 1):G4}, {rate:F0} images/s"));
                if (it % settings.CheckpointEvery == 0 || it == nit)
                    VocCheckpoint.Save(folder.CheckpointPath, it, model.Arch, settings.Fc6To8, model, optimizer);
                if (it == nit) break;
            }
        }
        return recent.Count > 0 ? recent.Average() : null;
    }

    /// <summary>Dropout masks of iteration <paramref name="iteration"/> from (seed, iteration).</summary>
    void SeedDropout(int iteration)
    {
        var s = (long)(SampleRng.For(settings.Seed, iteration, long.MaxValue).NextUInt64() >> 1);
        random.manual_seed(s);
        if (device.type == DeviceType.CUDA) cuda.manual_seed_all(s);
    }

    /// <summary>Scores every image of <paramref name="data"/> (logits summed over the test crops) and measures AP per class.</summary>
    VocSplitScore Evaluate(VocDataset data, int pass, ILinearEvalObserver observer, CancellationToken ct)
    {
        model.eval();
        int k = VocDataset.ClassNames.Length;
        var transform = settings.EvalRandomCrops ? VocTransforms.Random(model.InputSize, settings.MinScale, settings.MaxScale)
                                                 : VocTransforms.TenCrops(model.InputSize);
        int rounds = settings.EvalRandomCrops ? VocEvalSettings.TestCrops : 1;
        var scores = new float[data.Count * k];
        int batches = (data.Count + settings.BatchSize - 1) / settings.BatchSize, done = 0;
        var label = $"score {data.Split}";
        var clock = Stopwatch.StartNew();
        long seen = 0;
        observer.OnProgress(new LinearEvalProgress(pass, LinearEvalPhase.Test, 0, rounds * batches, 0, label));
        using var noGrad = no_grad();
        for (int round = 0; round < rounds; round++)
        {
            // Crop r of every image from (seed, -1 - r, position): streams no training epoch uses.
            var loader = new BatchLoader(data, transform, null, settings.BatchSize, settings.Workers, seed: settings.Seed, epoch: -1 - round);
            foreach (var batch in loader)
            {
                using var b = batch;
                using var scope = NewDisposeScope();
                ct.ThrowIfCancellationRequested();
                var images = batch.Images.to(device);
                int crops = transform.Crops;
                if (crops > 1) images = images.view(-1, images.shape[2], images.shape[3], images.shape[4]);
                var output = model.forward(images);
                if (crops > 1) output = output.view(batch.Count, crops, k).sum(1);
                var values = output.cpu().contiguous().data<float>().ToArray();
                for (int i = 0; i < batch.Count; i++)
                    for (int c = 0; c < k; c++)
                        scores[batch.Indices[i] * k + c] += values[i * k + c];
                seen += batch.Count;
                observer.OnProgress(new LinearEvalProgress(pass, LinearEvalPhase.Test, ++done, rounds * batches,
                                                           seen / Math.Max(1e-9, clock.Elapsed.TotalSeconds), label));
            }
        }
        var labels = data.Targets.Select(t => (int)t).ToArray();
        var (perClass, map) = ClassificationAveragePrecision.ComputeAll(scores, labels, k);
        return new VocSplitScore(data.Count, perClass, map);
    }
}
