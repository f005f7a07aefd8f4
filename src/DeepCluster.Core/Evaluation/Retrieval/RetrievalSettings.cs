namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>
/// What an instance-retrieval evaluation (<c>deepcluster eval-retrieval</c>) runs: the model (null: a randomly
/// initialised <see cref="Arch"/> drawn from <see cref="Seed"/>), the dataset, the <c>--other</c> dataset PCA-whitening
/// is learned on (null: no whitening), the larger image side <see cref="ImDim"/>, the R-MAC <see cref="Levels"/> and the
/// whitened dimension <see cref="PcaDim"/> (at most the feature map's channels), and how many images go between two
/// saves of the work done (<see cref="CheckpointEvery"/>, not part of what identifies a run).
/// </summary>
public sealed record RetrievalSettings(string? Model, string Data, string? Other, string Arch, int ImDim = 1024, int Levels = 3,
                                       int PcaDim = 512, long Seed = 31, int CheckpointEvery = 100)
{
    /// <summary>Checks the numbers (one line naming the flag).</summary>
    public void Validate()
    {
        if (CheckpointEvery < 1) throw new ArgumentException($"--checkpoint_every {CheckpointEvery}: must be at least 1.");
        if (ImDim < 16) throw new ArgumentException($"--imdim {ImDim}: the larger image side must be at least 16 pixels.");
        if (Levels < 1) throw new ArgumentException($"--levels {Levels}: R-MAC needs at least one level.");
        if (PcaDim < 1) throw new ArgumentException($"--n_pca {PcaDim}: must be at least 1.");
    }
}

/// <summary>
/// What a retrieval evaluation's saved work depends on (<c>settings.json</c> of its <c>--exp</c>): the settings but
/// <see cref="RetrievalSettings.CheckpointEvery"/>, Sobel (of a randomly initialised model), and the database and
/// <c>--other</c> images (their count, where they come from and a hash of their names, <see cref="Describe"/>).
/// </summary>
public sealed record RetrievalIdentity(string? Model, string Data, string? Other, string Arch, bool Sobel, int ImDim, int Levels,
                                       int PcaDim, long Seed, string Database, string? OtherDatabase)
{
    /// <summary>The identity of a run of <paramref name="settings"/> on <paramref name="data"/> (and <paramref name="other"/>).</summary>
    public static RetrievalIdentity Of(RetrievalSettings settings, bool sobel, RetrievalDataset data, RetrievalDataset? other) =>
        new(settings.Model, settings.Data, settings.Other, settings.Arch, sobel, settings.ImDim, settings.Levels, settings.PcaDim,
            settings.Seed, Describe(data), other is null ? null : Describe(other));

    /// <summary><c>N images from SOURCE, names HASH</c>: what the saved descriptors of <paramref name="set"/> are of.</summary>
    public static string Describe(RetrievalDataset set)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', set.Images)));
        return $"{set.Images.Count} images from {set.ImageSource}, names {Convert.ToHexString(hash)[..16].ToLowerInvariant()}";
    }
}

/// <summary>The AP of one query, in [0, 1], and its ranking of the database (image names, best first).</summary>
public sealed record RetrievalQueryScore(string Query, string Image, double Ap, IReadOnlyList<string> Ranking);

/// <summary>What a finished retrieval evaluation reports: per-query APs, their mean, the descriptor size, the PCA's retained energy.</summary>
public sealed record RetrievalResult(IReadOnlyList<RetrievalQueryScore> Queries, double Map, int Images, int DescriptorDim,
                                     int Channels, int PcaImages, double? PcaEnergy, double Seconds);
