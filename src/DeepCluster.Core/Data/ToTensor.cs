namespace DeepCluster.Core.Data;

/// <summary>torchvision's <c>ToTensor</c>: HWC uint8 to CHW float32 divided by 255. Executed by <see cref="Compose"/>.</summary>
public sealed class ToTensor : ITransform { }
