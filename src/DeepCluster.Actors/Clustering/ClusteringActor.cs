using Akka.Actor;
using Akka.Event;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;

namespace DeepCluster.Actors.Clustering;

/// <summary>Clusters the features in <paramref name="FeaturesPath"/> and writes the assignment of each image.</summary>
public sealed record ClusterFeatures(
    int Epoch, string FeaturesPath, string Method, int K, int Pca, int Niter, long Seed, string? Device, string AssignmentsPath);

/// <summary>
/// Assignments (int64 per image) are in <paramref name="AssignmentsPath"/>; <paramref name="Loss"/> is the final
/// k-means objective (0 for PIC), <paramref name="Objectives"/> the objective of every iteration.
/// </summary>
public sealed record FeaturesClustered(int Epoch, string AssignmentsPath, double Loss, double[] Objectives, int NonEmpty, double Seconds);

public sealed record ClusteringFailed(int Epoch, string Error);

/// <summary>PCA-whitening + L2 normalisation, then k-means or PIC (Core), on the configured device.</summary>
public sealed class ClusteringActor : ReceiveActor
{
    public ClusteringActor()
    {
        var log = Context.GetLogger();
        Receive<ClusterFeatures>(msg =>
        {
            try
            {
                var device = TorchRuntime.ResolveDevice(msg.Device);
                var experiment = Sender;   // progress goes to the experiment that asked, which reports it up its tree
                // PCA of large features takes a while (14–18 s for AlexNet's 4096-d) before the first k-means iteration:
                // say so, so the screen does not stand still.
                var shape = NpyFile.ReadHeader(msg.FeaturesPath).Shape;
                var total = msg.Method.Equals("PIC", StringComparison.OrdinalIgnoreCase) ? 1 : msg.Niter;
                experiment.Tell(new PhaseProgress(msg.Epoch, Phase.Clustering, 0, total, 0, "it",
                    $"PCA-whitening {string.Join("×", shape)} features to {msg.Pca} dims…"));
                var result = ClusteringRunner.Run(msg.FeaturesPath, msg.Method, msg.K, msg.Pca, msg.Niter, msg.Seed, device,
                    (it, total, step) => experiment.Tell(new PhaseProgress(msg.Epoch, Phase.Clustering, it, total, 0, "it",
                        step is null ? null : $"objective {step.Objective:F2}")));
                Directory.CreateDirectory(Path.GetDirectoryName(msg.AssignmentsPath)!);
                NpyFile.WriteInt64(msg.AssignmentsPath, result.Assignments);
                experiment.Tell(new FeaturesClustered(msg.Epoch, msg.AssignmentsPath, result.Loss, result.Objectives,
                    result.NonEmpty, result.Seconds));
            }
            catch (Exception e)
            {
                log.Error("clustering failed: {0}", e.Message);
                Sender.Tell(new ClusteringFailed(msg.Epoch, e.Message));
            }
        });
    }

    protected override void PreStart() => TorchRuntime.FlushDenormals();   // this actor's own thread

    public static Props Props() => Akka.Actor.Props.Create(() => new ClusteringActor());
}
