// Inline MSBuild task (RoslynCodeTaskFactory): marks chosen GLIBCXX version requirements of
// libLibTorchSharp.so as weak (VER_FLG_WEAK on the Vernaux entry in .gnu.version_r), so the
// dynamic loader accepts the library on systems whose libstdc++ predates that version.
// TorchSharp 0.107 needs GLIBCXX_3.4.32 only for std::ios_base_library_init(), which is
// referenced by GCC 13's <iostream> but never called (no relocation uses it).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class PatchGlibcxxVersionNeed : Task
{
    [Required] public string Directory { get; set; } = "";
    public string Versions { get; set; } = "GLIBCXX_3.4.32";
    public string FileName { get; set; } = "libLibTorchSharp.so";
    [Output] public int Patched { get; set; }

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    static readonly string[] LibStdCxxCandidates =
    {
        "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib64/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
    };

    public override bool Execute()
    {
        if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux) || !System.IO.Directory.Exists(Directory)) return true;
        var libstdcxx = LibStdCxxCandidates.FirstOrDefault(File.Exists);
        if (libstdcxx == null) return true;
        var system = File.ReadAllBytes(libstdcxx);
        var missing = new HashSet<string>(Versions.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries)
            .Select(v => v.Trim())
            .Where(v => IndexOf(system, Encoding.ASCII.GetBytes(v + "\0")) < 0));
        if (missing.Count == 0) return true;   // the system's libstdc++ has them: nothing to do

        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, FileName, SearchOption.AllDirectories))
        {
            try
            {
                var n = PatchFile(path, missing);
                if (n > 0)
                {
                    Patched += n;
                    Log.LogMessage(MessageImportance.High,
                        $"TorchSharp: marked {string.Join(", ", missing)} weak in {path} ({libstdcxx} lacks it)");
                }
            }
            catch (Exception e)
            {
                Log.LogWarning($"TorchSharp: could not patch {path}: {e.Message}");
            }
        }
        return true;
    }

    static int IndexOf(byte[] hay, byte[] needle)
    {
        for (int i = 0; i <= hay.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && hay[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    static int PatchFile(string path, HashSet<string> versions)
    {
        var stamp = File.GetLastWriteTimeUtc(path);
        int patched = 0;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        using (var br = new BinaryReader(fs))
        using (var bw = new BinaryWriter(fs))
        {
            var ident = br.ReadBytes(16);
            if (ident[0] != 0x7f || ident[1] != (byte)'E' || ident[2] != (byte)'L' || ident[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (ident[4] != 2 || ident[5] != 1) throw new InvalidDataException("not a little-endian ELF64 file");
            fs.Position = 0x28; long shoff = br.ReadInt64();
            fs.Position = 0x3A; int shentsize = br.ReadUInt16(); int shnum = br.ReadUInt16();
            for (int s = 0; s < shnum; s++)
            {
                fs.Position = shoff + (long)s * shentsize + 4;
                uint type = br.ReadUInt32();
                if (type != ShtGnuVerneed) continue;
                fs.Position = shoff + (long)s * shentsize + 24;
                long offset = br.ReadInt64(); br.ReadInt64(); uint link = br.ReadUInt32(); uint count = br.ReadUInt32();
                fs.Position = shoff + (long)link * shentsize + 24;
                long strOffset = br.ReadInt64(); long strSize = br.ReadInt64();
                fs.Position = strOffset; var strtab = br.ReadBytes((int)strSize);
                long need = offset;
                for (uint i = 0; i < count; i++)
                {
                    fs.Position = need;
                    br.ReadUInt16(); ushort cnt = br.ReadUInt16(); br.ReadUInt32(); uint aux = br.ReadUInt32(); uint next = br.ReadUInt32();
                    long a = need + aux;
                    for (int j = 0; j < cnt; j++)
                    {
                        fs.Position = a + 4; ushort flags = br.ReadUInt16(); br.ReadUInt16();
                        uint name = br.ReadUInt32(); uint anext = br.ReadUInt32();
                        int end = Array.IndexOf(strtab, (byte)0, (int)name);
                        var str = Encoding.ASCII.GetString(strtab, (int)name, end - (int)name);
                        if (versions.Contains(str) && (flags & VerFlgWeak) == 0)
                        {
                            fs.Position = a + 4; bw.Write((ushort)(flags | VerFlgWeak)); patched++;
                        }
                        a += anext;
                    }
                    need += next;
                }
            }
        }
        // Keep the timestamp so incremental copies stay skipped.
        if (patched > 0) File.SetLastWriteTimeUtc(path, stamp);
        return patched;
    }
}
