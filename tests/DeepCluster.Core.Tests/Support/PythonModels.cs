namespace DeepCluster.Core.Tests.Support;

/// <summary>Python preamble that imports the published model definitions copied next to the test assembly.</summary>
public static class PythonModels
{
    public static string Preamble =>
        $"import sys\nsys.path.insert(0, {Quote(Path.Combine(AppContext.BaseDirectory, "Python"))})\n" +
        "import torch\nimport numpy as np\nfrom published_models import ARCHS\ntorch.set_num_threads(2)\n";

    static string Quote(string s) => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'";
}
