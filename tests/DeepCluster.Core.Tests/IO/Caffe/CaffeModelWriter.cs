using System.Runtime.InteropServices;
using Google.Protobuf;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.IO.Caffe;

/// <summary>
/// Writes caffemodels for the tests: Caffe's <c>NetParameter</c> with its layers and weight blobs, through
/// Google.Protobuf's <see cref="CodedOutputStream"/> with the field numbers of caffe.proto (the writer side of the
/// subset the importer reads: blobs with <c>shape</c> and packed <c>data</c>, and the layer parameters it checks).
/// </summary>
public sealed class CaffeModelWriter
{
    const WireFormat.WireType Delimited = WireFormat.WireType.LengthDelimited;
    readonly List<ByteString> layers = [];

    /// <summary>Adds a layer; <paramref name="param"/> writes its type-specific parameter message as field <paramref name="paramField"/>.</summary>
    public CaffeModelWriter Layer(string name, string type, IEnumerable<Tensor>? blobs = null, int paramField = 0,
                                  Action<CodedOutputStream>? param = null)
    {
        layers.Add(Message(o =>
        {
            o.WriteTag(1, Delimited); o.WriteString(name);
            o.WriteTag(2, Delimited); o.WriteString(type);
            o.WriteTag(3, Delimited); o.WriteString("bottom");
            foreach (var b in blobs ?? Array.Empty<Tensor>()) { o.WriteTag(7, Delimited); o.WriteBytes(Blob(b)); }
            if (param is not null) { o.WriteTag(paramField, Delimited); o.WriteBytes(Message(param)); }
        }));
        return this;
    }

    /// <summary>A Convolution layer (convolution_param = 106).</summary>
    public CaffeModelWriter Convolution(string name, Tensor weight, Tensor? bias, int stride, int pad) =>
        Layer(name, "Convolution", bias is null ? new[] { weight } : new[] { weight, bias }, 106, o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint); o.WriteUInt32((uint)weight.shape[0]);
            if (bias is null) { o.WriteTag(2, WireFormat.WireType.Varint); o.WriteBool(false); }
            o.WriteTag(3, WireFormat.WireType.Varint); o.WriteUInt32((uint)pad);
            o.WriteTag(4, WireFormat.WireType.Varint); o.WriteUInt32((uint)weight.shape[2]);
            o.WriteTag(6, WireFormat.WireType.Varint); o.WriteUInt32((uint)stride);
        });

    /// <summary>A max-pooling layer (pooling_param = 121).</summary>
    public CaffeModelWriter MaxPool(string name, int kernel, int stride) =>
        Layer(name, "Pooling", null, 121, o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint); o.WriteEnum(0);
            o.WriteTag(2, WireFormat.WireType.Varint); o.WriteUInt32((uint)kernel);
            o.WriteTag(3, WireFormat.WireType.Varint); o.WriteUInt32((uint)stride);
        });

    /// <summary>A BatchNorm layer (batch_norm_param = 139, with <c>use_global_stats</c> and <c>eps</c>).</summary>
    public CaffeModelWriter BatchNorm(string name, Tensor scaledMean, Tensor scaledVar, float factor, float eps) =>
        Layer(name, "BatchNorm", new[] { scaledMean, scaledVar, tensor(new[] { factor }) }, 139, o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint); o.WriteBool(true);
            o.WriteTag(3, WireFormat.WireType.Fixed32); o.WriteFloat(eps);
        });

    /// <summary>A Scale layer with bias (scale_param = 142, <c>bias_term</c> = 4).</summary>
    public CaffeModelWriter Scale(string name, Tensor gamma, Tensor beta) =>
        Layer(name, "Scale", new[] { gamma, beta }, 142, o => { o.WriteTag(4, WireFormat.WireType.Varint); o.WriteBool(true); });

    /// <summary>An InnerProduct layer (inner_product_param = 117).</summary>
    public CaffeModelWriter InnerProduct(string name, Tensor weight, Tensor bias) =>
        Layer(name, "InnerProduct", new[] { weight, bias }, 117, o => { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteUInt32((uint)weight.shape[0]); });

    /// <summary>Writes the NetParameter (<c>name</c> = 1, <c>input</c> = 3, <c>layer</c> = 100).</summary>
    public void Write(string path)
    {
        using var fs = File.Create(path);
        using var o = new CodedOutputStream(fs);
        o.WriteTag(1, Delimited); o.WriteString("pytorch");
        o.WriteTag(3, Delimited); o.WriteString("data");
        foreach (var layer in layers) { o.WriteTag(100, Delimited); o.WriteBytes(layer); }
    }

    /// <summary>A BlobProto: <c>shape</c> (7, BlobShape with packed <c>dim</c> = 1) and packed float <c>data</c> (5).</summary>
    static ByteString Blob(Tensor t) => Message(o =>
    {
        o.WriteTag(7, Delimited);
        o.WriteBytes(Message(s => { s.WriteTag(1, Delimited); s.WriteBytes(Message(p => { foreach (var d in t.shape) p.WriteInt64(d); })); }));
        using var c = t.detach().cpu().to(ScalarType.Float32).contiguous();
        var floats = c.data<float>().ToArray();
        o.WriteTag(5, Delimited); o.WriteBytes(ByteString.CopyFrom(MemoryMarshal.AsBytes(floats.AsSpan())));
    });

    static ByteString Message(Action<CodedOutputStream> write)
    {
        using var ms = new MemoryStream();
        using (var o = new CodedOutputStream(ms, leaveOpen: true)) write(o);
        return ByteString.CopyFrom(ms.ToArray());
    }
}
