using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// One of every record the experiment journals, every field set to something other than its default, and
/// <see cref="V1"/>: the same records as format version 1 wrote them, which every later version must still read.
/// </summary>
public static class JournalSamples
{
    public static readonly TrainConfig Config = new()
    {
        Data = "/data/fmnist", Exp = ".", Arch = "alexnet_small", Sobel = true, Clustering = "PIC", NmbCluster = 10,
        Lr = 0.01, Wd = -4, Reassign = 2, Workers = 2, Epochs = 3, StartEpoch = 1, Batch = 64, Momentum = 0.8,
        Resume = "start.pth.tar", Checkpoints = 3, Seed = 5, Verbose = true, Device = "cpu", DataFormat = "idx",
        Limit = 512, Split = "t10k", Pca = 32, Niter = 7, SkipBadFiles = true,
    };

    static Artifact A(string path, long size) => new(path, size, "00112233aabbccdd");

    public static readonly EpochMetrics Metrics = new()
    {
        Epoch = 1, EpochSeconds = 10.5, FeaturesSeconds = 1.25, ClusteringSeconds = 2.5, TrainingSeconds = 6.75,
        TrainImagesPerSecond = 75.5, ClusteringLoss = 0.125, ConvnetLoss = 2.25, NonEmptyClusters = 9,
        NmiPrevious = 0.5, NmiLabels = 0.375,
    };

    /// <summary>Each event, by the manifest it is stored under (two for events with optional or non-finite fields).</summary>
    public static readonly (string Manifest, IExperimentEvent Event)[] Events =
    [
        ("experiment-created", new ExperimentCreated(Config, A("work/initial.pth.tar", 1000), 1)),
        ("run-settings-changed", new RunSettingsChanged(new RunSettings(1, null, false, true, 9, 4))),
        ("features-done", new FeaturesDone(1, A("work/epoch_0001/features.npy", 2000), A("work/epoch_0001/true_labels.npy", 3000), 1.25)),
        ("features-done", new FeaturesDone(1, A("work/epoch_0001/features.npy", 2000), null, 1.25)),
        ("clustering-done", new ClusteringDone(1, A("work/epoch_0001/assignments.npy", 4000), 0.125, 9, 2.5, 0.5, 0.375)),
        ("clustering-done", new ClusteringDone(1, A("work/epoch_0001/assignments.npy", 4000), double.NaN, 9, 2.5, null, null)),
        ("sampling-done", new SamplingDone(1, A("work/epoch_0001/order.npy", 5000), A("work/epoch_0001/labels.npy", 6000), 512, 9)),
        ("training-checkpointed", new TrainingCheckpointed(1, 6, A("checkpoints/checkpoint_6.pth.tar", 7000), 12.5, 320)),
        ("epoch-done", new EpochDone(Metrics, A("work/epoch_0001/model_end.pth.tar", 8000), A("work/epoch_0001/assignments.npy", 4000))),
        ("phase-rewound", new PhaseRewound(1, Phase.Clustering, "assignments.npy: missing")),
        ("feature-range-done", new FeatureRangeDone(2, 2048, 1024, A("work/epoch_0002/features.range-0000002048-1024.npy", 9000))),
    ];

    /// <summary>A state with every field set: one epoch done, the next one in training, after a checkpoint.</summary>
    public static ExperimentState State() => Events
        .Where(e => e.Manifest != "phase-rewound").Select(e => e.Event)
        .Append(Events[2].Event).Append(Events[4].Event).Append(Events[6].Event).Append(Events[7].Event)
        .Aggregate(new ExperimentState(), (s, e) => s.Apply(e));

    const string Artifact0 = """{"path":"work/initial.pth.tar","size":1000,"hash":"00112233aabbccdd"}""";
    const string ConfigV1 = """
        {"data":"/data/fmnist","arch":"alexnet_small","sobel":true,"clustering":"PIC","nmb_cluster":10,"lr":0.01,"wd":-4,
         "reassign":2,"workers":2,"epochs":3,"start_epoch":1,"batch":64,"momentum":0.8,"resume":"start.pth.tar",
         "checkpoints":3,"seed":5,"exp":".","verbose":true,"device":"cpu","data_format":"idx","limit":512,"split":"t10k",
         "pca":32,"niter":7,"skip_bad_files":true}
        """;
    const string Features = """{"epoch":1,"features":{"path":"work/epoch_0001/features.npy","size":2000,"hash":"00112233aabbccdd"},"true_labels":{"path":"work/epoch_0001/true_labels.npy","size":3000,"hash":"00112233aabbccdd"},"seconds":1.25}""";
    const string Assignments = """{"path":"work/epoch_0001/assignments.npy","size":4000,"hash":"00112233aabbccdd"}""";
    const string Clustering = $$"""{"epoch":1,"assignments":{{Assignments}},"loss":0.125,"non_empty":9,"seconds":2.5,"nmi_previous":0.5,"nmi_labels":0.375}""";
    const string Sampling = """{"epoch":1,"order":{"path":"work/epoch_0001/order.npy","size":5000,"hash":"00112233aabbccdd"},"labels":{"path":"work/epoch_0001/labels.npy","size":6000,"hash":"00112233aabbccdd"},"count":512,"clusters":9}""";
    const string Checkpoint = """{"epoch":1,"iteration":6,"checkpoint":{"path":"checkpoints/checkpoint_6.pth.tar","size":7000,"hash":"00112233aabbccdd"},"loss_sum":12.5,"loss_count":320}""";
    const string MetricsV1 = """
        {"epoch":1,"epoch_seconds":10.5,"features_seconds":1.25,"clustering_seconds":2.5,"training_seconds":6.75,
         "train_images_per_second":75.5,"clustering_loss":0.125,"convnet_loss":2.25,"non_empty_clusters":9,
         "nmi_previous":0.5,"nmi_labels":0.375}
        """;
    const string Settings4 = """{"workers":1,"device":null,"verbose":false,"skip_bad_files":true,"checkpoints":9,"epochs":4}""";

    /// <summary>
    /// Format version 1, as written: <see cref="Events"/> in order, then <see cref="State"/> under
    /// <c>experiment-state</c>. Never edit these; a new version adds its own fixtures.
    /// </summary>
    public static readonly (string Manifest, string Json)[] V1 =
    [
        ("experiment-created", $$"""{"v":1,"config":{{ConfigV1}},"model":{{Artifact0}},"start_epoch":1}"""),
        ("run-settings-changed", $$"""{"v":1,"settings":{{Settings4}}}"""),
        ("features-done", "{\"v\":1," + Features[1..]),
        ("features-done", """{"v":1,"epoch":1,"features":{"path":"work/epoch_0001/features.npy","size":2000,"hash":"00112233aabbccdd"},"true_labels":null,"seconds":1.25}"""),
        ("clustering-done", "{\"v\":1," + Clustering[1..]),
        ("clustering-done", $$"""{"v":1,"epoch":1,"assignments":{{Assignments}},"loss":"NaN","non_empty":9,"seconds":2.5,"nmi_previous":null,"nmi_labels":null}"""),
        ("sampling-done", "{\"v\":1," + Sampling[1..]),
        ("training-checkpointed", "{\"v\":1," + Checkpoint[1..]),
        ("epoch-done", $$"""{"v":1,"metrics":{{MetricsV1}},"model":{"path":"work/epoch_0001/model_end.pth.tar","size":8000,"hash":"00112233aabbccdd"},"assignments":{{Assignments}}}"""),
        ("phase-rewound", """{"v":1,"epoch":1,"phase":"clustering","reason":"assignments.npy: missing"}"""),
        ("feature-range-done", """{"v":1,"epoch":2,"start":2048,"count":1024,"file":{"path":"work/epoch_0002/features.range-0000002048-1024.npy","size":9000,"hash":"00112233aabbccdd"}}"""),
        ("experiment-state", $$"""
            {"v":1,"config":{"data":"/data/fmnist","arch":"alexnet_small","sobel":true,"clustering":"PIC","nmb_cluster":10,
              "lr":0.01,"wd":-4,"reassign":2,"workers":1,"epochs":4,"start_epoch":1,"batch":64,"momentum":0.8,
              "resume":"start.pth.tar","checkpoints":9,"seed":5,"exp":".","verbose":false,"device":null,"data_format":"idx",
              "limit":512,"split":"t10k","pca":32,"niter":7,"skip_bad_files":true},
             "model":{"path":"work/epoch_0001/model_end.pth.tar","size":8000,"hash":"00112233aabbccdd"},
             "epoch":2,"phase":"training","features":{{Features}},"clustering":{{Clustering}},"sampling":{{Sampling}},
             "last_checkpoint":{{Checkpoint}},"previous_assignments":{{Assignments}},"completed":[{{MetricsV1}}]}
            """),
    ];
}
