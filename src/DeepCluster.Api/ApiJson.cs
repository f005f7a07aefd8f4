using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Api;

/// <summary>
/// How the control API writes and reads JSON: the experiment views in the web style (camelCase), a submitted
/// configuration as <c>config.json</c> is written (<see cref="TrainConfig.Json"/>, snake_case), with a field it does not
/// know refused rather than ignored.
/// </summary>
public static class ApiJson
{
    /// <summary>Status views, control replies, log chunks, errors.</summary>
    public static JsonSerializerOptions Web { get; } = new(JsonSerializerDefaults.Web)
    {
        // Served as application/json only: quotes in messages stay readable in curl's output.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// A submitted <see cref="TrainConfig"/>: the names of <c>config.json</c>; <c>exp</c> may be left out (the host
    /// places the experiment itself), an unknown field is an error naming it.
    /// </summary>
    public static JsonSerializerOptions Config { get; } = new(TrainConfig.Json)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver
        {
            Modifiers =
            {
                info =>
                {
                    if (info.Type != typeof(TrainConfig)) return;
                    foreach (var p in info.Properties)
                        if (p.Name == "exp") p.IsRequired = false;
                },
            },
        },
    };

    /// <summary>Reads a submitted configuration; a problem is an <see cref="InvalidDataException"/> naming the field.</summary>
    public static TrainConfig ReadConfig(string body)
    {
        TrainConfig? config;
        try { config = JsonSerializer.Deserialize<TrainConfig>(body, Config); }
        catch (JsonException e) { throw new InvalidDataException("request body: " + Describe(e)); }
        if (config is null) throw new InvalidDataException("request body: expected a JSON object with the experiment's configuration (data, arch, …).");
        // The host does not share the client's working folder: paths must be absolute.
        if (string.IsNullOrWhiteSpace(config.Data)) throw new InvalidDataException("request body: field data: the dataset's path is missing.");
        if (!Path.IsPathFullyQualified(config.Data))
            throw new InvalidDataException($"request body: field data {config.Data}: give an absolute path (as the host sees it).");
        if (config.Resume is { Length: > 0 } r && !Path.IsPathFullyQualified(r))
            throw new InvalidDataException($"request body: field resume {r}: give an absolute path (as the host sees it).");
        // exp may be absent: the host ignores it (TrainConfig.Exp is required for the C# compiler only).
        return config.Exp is null ? config with { Exp = "" } : config;
    }

    /// <summary>A JSON error as one line, naming the field (<c>$.lr</c>) where there is one.</summary>
    public static string Describe(JsonException e)
    {
        var message = OneLine(e.Message);
        var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        if (message.Contains("missing required properties", StringComparison.Ordinal))
            return message.Replace("JSON deserialization for type 'DeepCluster.Core.Experiment.TrainConfig' was", "the configuration is", StringComparison.Ordinal);
        foreach (var (type, words) in Types) message = message.Replace(type, words, StringComparison.Ordinal);
        var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? null : e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..] : e.Path;
        return field is null ? message : $"field {field}: {message}";
    }

    /// <summary>.NET type names in System.Text.Json's messages, in the words of a JSON user.</summary>
    static readonly (string, string)[] Types =
    [
        ("could not be mapped to any .NET member contained in type 'DeepCluster.Core.Experiment.TrainConfig'", "is not a setting of an experiment"),
        ("DeepCluster.Core.Experiment.TrainConfig", "an object of settings"),
        ("System.Double", "a number"), ("System.Int32", "a whole number"), ("System.Nullable`1[System.Int32]", "a whole number or null"),
        ("System.Boolean", "true or false"), ("System.String", "a string"),
    ];

    /// <summary>Line breaks of a message folded into spaces: an error is one line.</summary>
    public static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
