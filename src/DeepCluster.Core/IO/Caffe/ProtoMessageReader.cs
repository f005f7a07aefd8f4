using System.Runtime.InteropServices;
using Google.Protobuf;

namespace DeepCluster.Core.IO.Caffe;

/// <summary>
/// Walks the fields of one protobuf message that lies in a byte array, with Google.Protobuf's
/// <see cref="CodedInputStream"/> for the wire format. Length-delimited fields (nested messages, packed arrays) are
/// handed out as regions of the same array, so a blob of hundreds of megabytes is never copied to be parsed.
/// </summary>
internal sealed class ProtoMessageReader
{
    readonly byte[] buffer;
    readonly int offset;
    readonly CodedInputStream input;
    readonly long origin;

    /// <summary>A reader over <paramref name="length"/> bytes of <paramref name="buffer"/> from <paramref name="offset"/>.</summary>
    public ProtoMessageReader(byte[] buffer, int offset, int length)
    {
        this.buffer = buffer;
        this.offset = offset;
        input = new CodedInputStream(buffer, offset, length);
        origin = input.Position;
    }

    /// <summary>The number of the current field (after <see cref="Next"/>).</summary>
    public int Field { get; private set; }

    /// <summary>The wire type of the current field.</summary>
    public WireFormat.WireType Wire { get; private set; }

    int Absolute => offset + checked((int)(input.Position - origin));

    /// <summary>Moves to the next field; false at the end of the message.</summary>
    public bool Next()
    {
        var tag = input.ReadTag();
        if (tag == 0) return false;
        Field = WireFormat.GetTagFieldNumber(tag);
        Wire = WireFormat.GetTagWireType(tag);
        return true;
    }

    /// <summary>Skips the current field.</summary>
    public void Skip() => input.SkipLastField();

    /// <summary>The payload of the current length-delimited field, as a region of the buffer; moves past it.</summary>
    public Memory<byte> Bytes()
    {
        Expect(WireFormat.WireType.LengthDelimited);
        var before = Absolute;
        input.SkipLastField();                          // reads the length and skips the payload, without copying it
        var prefix = new CodedInputStream(buffer, before, Absolute - before);
        var start = prefix.Position;
        var length = prefix.ReadLength();
        return buffer.AsMemory(before + checked((int)(prefix.Position - start)), length);
    }

    /// <summary>The current field as a nested message.</summary>
    public ProtoMessageReader Message()
    {
        var region = Bytes();
        MemoryMarshal.TryGetArray<byte>(region, out var segment);
        return new ProtoMessageReader(buffer, segment.Offset, segment.Count);
    }

    /// <summary>The current field as a string.</summary>
    public string String() { Expect(WireFormat.WireType.LengthDelimited); return input.ReadString(); }

    /// <summary>The current field as a bool.</summary>
    public bool Bool() { Expect(WireFormat.WireType.Varint); return input.ReadBool(); }

    /// <summary>The current field as a float.</summary>
    public float Float() { Expect(WireFormat.WireType.Fixed32); return input.ReadFloat(); }

    /// <summary>The current field as a 32-bit signed integer (also enums).</summary>
    public int Int32() { Expect(WireFormat.WireType.Varint); return input.ReadInt32(); }

    /// <summary>Appends the current repeated unsigned field, packed or not, to <paramref name="values"/>.</summary>
    public void UInt64s(List<long> values)
    {
        if (Wire == WireFormat.WireType.Varint) { values.Add((long)input.ReadUInt64()); return; }
        var region = Bytes();
        MemoryMarshal.TryGetArray<byte>(region, out var segment);
        var packed = new CodedInputStream(buffer, segment.Offset, segment.Count);
        while (!packed.IsAtEnd) values.Add((long)packed.ReadUInt64());
    }

    /// <summary>
    /// The current repeated float field as little-endian bytes: the region of the buffer when packed (as Caffe writes
    /// it), else one element appended to <paramref name="unpacked"/>; null in that case.
    /// </summary>
    public Memory<byte>? Floats(List<float> unpacked)
    {
        if (Wire == WireFormat.WireType.Fixed32) { unpacked.Add(input.ReadFloat()); return null; }
        var region = Bytes();
        if (region.Length % 4 != 0) throw new InvalidDataException($"a packed float array of {region.Length} bytes");
        return region;
    }

    /// <summary>The current repeated double field, packed or not, appended to <paramref name="values"/> as floats.</summary>
    public void Doubles(List<float> values)
    {
        if (Wire == WireFormat.WireType.Fixed64) { values.Add((float)input.ReadDouble()); return; }
        var region = Bytes();
        if (region.Length % 8 != 0) throw new InvalidDataException($"a packed double array of {region.Length} bytes");
        foreach (var d in MemoryMarshal.Cast<byte, double>(region.Span)) values.Add((float)d);
    }

    void Expect(WireFormat.WireType wire)
    {
        if (Wire != wire) throw new InvalidDataException($"field {Field} has wire type {Wire}, expected {wire}");
    }
}
