using System.Runtime.Serialization;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Hosting;
using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Hosting;
using DeepCluster.Core.Experiment;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DeepCluster.Actors.Tests;

/// <summary>An actor system with the journal's serializer bound as the host binds it, for the tests of its format.</summary>
public sealed class BoundSerializer : IDisposable
{
    readonly IHost host;
    public ActorSystem System { get; }

    public BoundSerializer()
    {
        host = new HostBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .ConfigureServices(s => s.AddAkka("serializer-test", b => b.AddExperimentSerializer()))
            .Build();
        host.Start();
        System = host.Services.GetRequiredService<ActorSystem>();
    }

    public void Dispose()
    {
        host.StopAsync().GetAwaiter().GetResult();
        host.Dispose();
    }
}

/// <summary>
/// The journal's own format (<see cref="ExperimentSerializer"/>): every event and the snapshot go through Akka's
/// serialization to versioned JSON without CLR type names and come back equal; version 1 payloads stay readable; an
/// unknown record kind or version is an error naming it.
/// </summary>
public class ExperimentSerializerTests(BoundSerializer bound) : IClassFixture<BoundSerializer>
{
    Akka.Serialization.Serialization Serialization => bound.System.Serialization;

    public static TheoryData<int> EventIndexes
    {
        get
        {
            var data = new TheoryData<int>();
            for (var i = 0; i < JournalSamples.Events.Length; i++) data.Add(i);
            return data;
        }
    }

    (byte[] Bytes, string Manifest) Write(object o)
    {
        var serializer = Serialization.FindSerializerFor(o);
        Assert.IsType<ExperimentSerializer>(serializer);
        Assert.Equal(ExperimentSerializer.Id, serializer.Identifier);
        return (serializer.ToBinary(o), Akka.Serialization.Serialization.ManifestFor(serializer, o));
    }

    object Read(byte[] bytes, string manifest) => Serialization.Deserialize(bytes, ExperimentSerializer.Id, manifest);

    static void AssertSameState(ExperimentState expected, object actual)
    {
        var state = Assert.IsType<ExperimentState>(actual);
        Assert.Equal(expected.Completed, state.Completed);
        IReadOnlyList<Core.Experiment.EpochMetrics> same = [];
        Assert.Equal(expected with { Completed = same }, state with { Completed = same });
    }

    [Theory, MemberData(nameof(EventIndexes))]
    public void AnEventComesBackEqualUnderItsManifest(int index)
    {
        var (manifest, e) = JournalSamples.Events[index];
        var (bytes, written) = Write(e);
        Assert.Equal(manifest, written);
        Assert.Equal(e, Read(bytes, manifest));
    }

    [Fact]
    public void TheSnapshotComesBackEqual()
    {
        var state = JournalSamples.State();
        Assert.NotNull(state.LastCheckpoint);
        Assert.Single(state.Completed);
        var (bytes, manifest) = Write(state);
        Assert.Equal("experiment-state", manifest);
        AssertSameState(state, Read(bytes, manifest));
        AssertSameState(new ExperimentState(), Read(Write(new ExperimentState()).Bytes, manifest));
    }

    /// <summary>The host's experiment entities journal their run state with the same serializer, version 1 fixtures.</summary>
    [Fact]
    public void ControlEventsRoundTripAndVersion1IsRead()
    {
        var at = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero);
        var submitted = new DeepCluster.Actors.Cluster.ExperimentSubmitted(JournalSamples.Config, at);
        var changed = new DeepCluster.Actors.Cluster.RunStateChanged("paused", "epoch 1, training iteration 6", at);
        foreach (var e in new object[] { submitted, changed })
        {
            var (bytes, manifest) = Write(e);
            var back = Read(bytes, manifest);
            Assert.Equal(Encoding.UTF8.GetString(bytes), Encoding.UTF8.GetString(Write(back).Bytes));
        }
        Assert.Equal("experiment-submitted", Write(submitted).Manifest);
        var v1 = """{"v":1,"state":"paused","detail":"epoch 1, training iteration 6","at":"2026-11-27T08:00:00+00:00"}""";
        Assert.Equal(changed, Read(Encoding.UTF8.GetBytes(v1), "run-state-changed"));
        var subV1 = Encoding.UTF8.GetString(Write(submitted).Bytes);
        Assert.StartsWith($"{{\"v\":{ExperimentSerializer.Version},\"config\":{{\"data\":\"/data/fmnist\"", subV1);
        Assert.EndsWith("\"at\":\"2026-11-27T08:00:00\\u002B00:00\"}", subV1);   // System.Text.Json escapes +
    }

    /// <summary>
    /// Version 2 stores <c>--precision</c> with the configuration; a version-1 configuration (written before the flag)
    /// reads as fp32, so an old experiment continued with <c>--precision bf16</c> is refused as a different experiment.
    /// </summary>
    [Fact]
    public void Version2StoresThePrecisionAndAVersion1ConfigurationIsFp32()
    {
        var bf16 = new ExperimentCreated(JournalSamples.Config with { Precision = "bf16" }, new Artifact("work/initial.pth.tar", 1000, "00112233aabbccdd"), 1);
        var (bytes, manifest) = Write(bf16);
        var json = Encoding.UTF8.GetString(bytes);
        Assert.StartsWith("{\"v\":2,", json);
        Assert.Contains("\"precision\":\"bf16\"", json);
        Assert.Equal(bf16, Read(bytes, manifest));
        var v1 = (ExperimentCreated)Read(Encoding.UTF8.GetBytes(JournalSamples.V1[0].Json), JournalSamples.V1[0].Manifest);
        Assert.Equal("fp32", v1.Config.Precision);
        Assert.Contains("--precision fp32 (folder) vs bf16 (now)", v1.Config.ResultDifferences(bf16.Config));
    }

    [Fact]
    public void EveryEventTypeHasAManifest()
    {
        var types = typeof(IExperimentEvent).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IExperimentEvent).IsAssignableFrom(t));
        Assert.All(types, t => Assert.Contains(t, ExperimentSerializer.Manifests.Keys));
        Assert.Equal(ExperimentSerializer.Manifests.Count, ExperimentSerializer.Manifests.Values.Distinct().Count());
    }

    [Fact]
    public void APayloadStartsWithItsVersionAndNamesNoClrType()
    {
        foreach (var o in JournalSamples.Events.Select(e => (object)e.Event).Append(JournalSamples.State()))
        {
            var json = Encoding.UTF8.GetString(Write(o).Bytes);
            Assert.StartsWith($"{{\"v\":{ExperimentSerializer.Version},", json);
            Assert.DoesNotContain("$type", json);
            Assert.DoesNotContain("DeepCluster", json);
            Assert.DoesNotContain(o.GetType().Name, json);
            Assert.DoesNotContain("\"started\"", json);     // derived properties are not stored
        }
    }

    [Fact]
    public void Version1PayloadsAreRead()
    {
        var expected = JournalSamples.Events.Select(e => (object)e.Event).Append(JournalSamples.State()).ToList();
        Assert.Equal(expected.Count, JournalSamples.V1.Length);
        for (var i = 0; i < expected.Count; i++)
        {
            var (manifest, json) = JournalSamples.V1[i];
            var read = Read(Encoding.UTF8.GetBytes(json), manifest);
            if (expected[i] is ExperimentState state) AssertSameState(state, read);
            else Assert.Equal(expected[i], read);
            // While version 1 is the one written, what is written is the fixture (field for field).
            if (ExperimentSerializer.Version == 1)
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse(Write(expected[i]).Bytes)),
                            $"{manifest} is no longer written as version 1 wrote it: {Encoding.UTF8.GetString(Write(expected[i]).Bytes)}");
        }
    }

    [Theory]
    [InlineData("from-the-future", """{"v":1}""", "journal record of unknown kind 'from-the-future'")]
    [InlineData("phase-rewound", """{"v":3,"epoch":1,"phase":"clustering","reason":"x"}""", "journal record 'phase-rewound' has format version 3; this deepcluster reads versions 1 to 2")]
    [InlineData("phase-rewound", """{"epoch":1,"phase":"clustering","reason":"x"}""", "journal record 'phase-rewound' cannot be read (no format version")]
    [InlineData("phase-rewound", """{"v":1,"epoch":1,"phase":"clustering"}""", "journal record 'phase-rewound' cannot be read")]
    [InlineData("phase-rewound", """{"v":1,"epoch":1,"phase":"clustering","reason":"x","extra":2}""", "journal record 'phase-rewound' cannot be read")]
    [InlineData("phase-rewound", """{"v":1,"epoch":1,"phase":"replay","reason":"x"}""", "journal record 'phase-rewound' cannot be read")]
    [InlineData("features-done", """{"v":1,"epoch":1,"features":null,"true_labels":null,"seconds":1}""", "journal record 'features-done' cannot be read")]
    [InlineData("epoch-done", "not json", "journal record 'epoch-done' cannot be read")]
    public void AnUnreadableRecordIsNamed(string manifest, string json, string message)
    {
        var e = Assert.Throws<SerializationException>(() => Read(Encoding.UTF8.GetBytes(json), manifest));
        Assert.Contains(message, e.Message);
        Assert.Null(e.InnerException);      // the recovery reports the innermost message: it must be this one
    }
}
