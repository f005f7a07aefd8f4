using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Akka.Actor;
using Akka.Serialization;

namespace DeepCluster.Actors.Experiment;

/// <summary>
/// How the experiment journal stores its events and snapshots: System.Text.Json objects that start with their format
/// version (<c>{"v":1,…}</c>, snake_case names), under a short manifest per type (<see cref="Manifests"/>), never a CLR
/// type name, so a renamed C# type reads the same journal. Serializer id <see cref="Id"/>; bound to
/// <see cref="IExperimentEvent"/> and <see cref="ExperimentState"/> by
/// <see cref="Hosting.PipelineHosting.AddExperimentSerializer"/>.
/// </summary>
/// <remarks>
/// Rows of older journals keep the serializer id they were written with (Akka's default JSON serializer, id 1) and are
/// still read by it; new rows are written here. A change of any stored field needs a new <see cref="Version"/>, and
/// version 1 must still be read (the test fixtures pin it). An unknown manifest or version, or a payload that does not
/// match its manifest, is a <see cref="SerializationException"/> naming it: the recovery fails with that one line.
/// </remarks>
public sealed class ExperimentSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>The serializer id stored with every row (user range: above Akka's reserved 0–100).</summary>
    public const int Id = 8300;
    /// <summary>
    /// The format version written; the versions read are 1 to this. Version 2 adds the configuration's
    /// <c>precision</c> (<c>--precision</c>); a version-1 configuration has none and reads as fp32, what it ran.
    /// </summary>
    public const int Version = 2;

    /// <summary>The manifest of each stored type: part of the format, never changed once written.</summary>
    public static readonly IReadOnlyDictionary<Type, string> Manifests = new Dictionary<Type, string>
    {
        [typeof(ExperimentCreated)] = "experiment-created",
        [typeof(RunSettingsChanged)] = "run-settings-changed",
        [typeof(FeaturesDone)] = "features-done",
        [typeof(ClusteringDone)] = "clustering-done",
        [typeof(SamplingDone)] = "sampling-done",
        [typeof(TrainingCheckpointed)] = "training-checkpointed",
        [typeof(EpochDone)] = "epoch-done",
        [typeof(PhaseRewound)] = "phase-rewound",
        [typeof(ExperimentState)] = "experiment-state",
        [typeof(FeatureRangeDone)] = "feature-range-done",
        // The host's experiment entities (their own persistence ids, control-ID).
        [typeof(Cluster.ExperimentSubmitted)] = "experiment-submitted",
        [typeof(Cluster.RunStateChanged)] = "run-state-changed",
    };

    static readonly Dictionary<string, Type> Types = Manifests.ToDictionary(m => m.Value, m => m.Key);

    /// <summary>
    /// Field names in snake_case, enums by name, NaN and infinities allowed (a diverged loss is journaled as it is);
    /// reading is strict: a missing, unknown or wrongly null field is an error, not a default.
    /// </summary>
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { StoredPropertiesOnly } },
    };

    public override int Identifier => Id;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var manifest) ? manifest
            : throw new ArgumentException($"the experiment journal does not store {o.GetType().Name}");

    public override byte[] ToBinary(object obj)
    {
        var type = obj.GetType();
        if (!Manifests.ContainsKey(type)) throw new ArgumentException($"the experiment journal does not store {type.Name}");
        using var body = JsonSerializer.SerializeToDocument(obj, type, Json);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            foreach (var field in body.RootElement.EnumerateObject()) field.WriteTo(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!Types.TryGetValue(manifest, out var type))
            throw new SerializationException($"journal record of unknown kind '{manifest}' (written by another version of deepcluster?)");
        // No inner exception: the failure is reported by its innermost message, which must name the record.
        JsonObject payload;
        try { payload = JsonNode.Parse(bytes) as JsonObject ?? throw new JsonException("not a JSON object"); }
        catch (JsonException e) { throw Unreadable(manifest, e.Message); }
        var version = payload["v"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : (int?)null;
        if (version is null) throw Unreadable(manifest, "no format version (\"v\")");
        if (version is < 1 or > Version)
            throw new SerializationException($"journal record '{manifest}' has format version {version}; this deepcluster reads " +
                                             $"{(Version == 1 ? "version 1" : $"versions 1 to {Version}")} (written by a newer version?)");
        payload.Remove("v");
        try { return payload.Deserialize(type, Json) ?? throw new JsonException("null"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw Unreadable(manifest, e.Message);
        }
    }

    static SerializationException Unreadable(string manifest, string why) =>
        new($"journal record '{manifest}' cannot be read ({why})");

    /// <summary>Computed properties (<c>Started</c>, <c>Finished</c>) are derived on reading, not stored.</summary>
    static void StoredPropertiesOnly(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object) return;
        for (var i = info.Properties.Count - 1; i >= 0; i--)
            if (info.Properties[i] is { Set: null, AssociatedParameter: null }) info.Properties.RemoveAt(i);
    }
}
