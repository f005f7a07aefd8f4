using DeepCluster.Core.Data;

namespace DeepCluster.Core.Visualisation;

/// <summary>
/// What gradient ascent made of one filter: the deprocessed <see cref="Image"/>, and at each iteration (index
/// <c>it</c> holds the image after <c>it</c> steps, the last entry the final image) the <see cref="Objective"/> it maximised
/// (the target's log-softmax among the layer's spatially averaged activations) and the target's own spatially averaged
/// <see cref="Activation"/>. <see cref="PreReluIterations"/> counts the iterations at which the filter was dead after
/// its ReLU, so that both were read from the conv output instead.
/// </summary>
public sealed record FilterVisualisation(int Filter, RgbImage Image, float[] Objective, float[] Activation, int PreReluIterations);
