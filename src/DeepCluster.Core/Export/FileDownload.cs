using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace DeepCluster.Core.Export;

/// <summary>How far a download is: <paramref name="Done"/> bytes of <paramref name="Total"/> (null: the server did not say).</summary>
public sealed record DownloadProgress(string Name, long Done, long? Total);

/// <summary>What a finished download did.</summary>
/// <param name="Path">The file, at its final path.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Sha256">Its SHA-256 (lower-case hex).</param>
/// <param name="ResumedFrom">Bytes already in the <c>.part</c> file that this run kept (0: downloaded from the start).</param>
/// <param name="ChecksumVerified">The SHA-256 was compared with a known one (else only the size was checked).</param>
/// <param name="AlreadyThere">The file was at its final path before: nothing was downloaded.</param>
public sealed record DownloadResult(string Path, long Bytes, string Sha256, long ResumedFrom, bool ChecksumVerified, bool AlreadyThere);

/// <summary>A transfer that broke off; the bytes received are kept in the <c>.part</c> file, and running again resumes.</summary>
public sealed class DownloadInterruptedException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// Downloads one file as <c>wget -c</c> does in the published <c>download_model.sh</c>, plus the checks it lacks: the
/// bytes go to <c>FILE.part</c> beside the destination; a run that finds a <c>.part</c> asks the server only for the rest
/// (HTTP <c>Range: bytes=N-</c>; a server that ignores it and sends the whole file again is handled by starting over).
/// When the transfer is whole, its size is checked (the catalogue's when known, else the one the server announced) and
/// its SHA-256 compared with the expected one when known; only then is the <c>.part</c> flushed to disk and renamed to
/// the destination (atomic: the destination is always either absent or a whole, verified file). A checksum or size
/// mismatch removes the <c>.part</c>, so the next run starts over; a broken transfer keeps it.
/// </summary>
public sealed class FileDownload(HttpClient http)
{
    const int BufferBytes = 1 << 20;

    /// <summary>A transfer that receives nothing for this long is treated as broken off (HttpClient's own timeout ends with the headers).</summary>
    public static readonly TimeSpan StallTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The temporary file a download of <paramref name="destination"/> writes.</summary>
    public static string PartPath(string destination) => Path.GetFullPath(destination) + ".part";

    /// <summary>
    /// Downloads <paramref name="url"/> to <paramref name="destination"/>. A destination already there is kept (and checked
    /// against <paramref name="sha256"/> / <paramref name="size"/> when known) unless <paramref name="force"/>.
    /// </summary>
    /// <exception cref="DownloadInterruptedException">The transfer broke off; run again to resume.</exception>
    /// <exception cref="InvalidDataException">Wrong size or checksum (nothing is left at the destination), or a server
    /// that answered a resumption with another part of the file.</exception>
    /// <exception cref="HttpRequestException">The server refused the request or could not be reached.</exception>
    public async Task<DownloadResult> RunAsync(Uri url, string destination, string? sha256, long? size,
                                               Action<DownloadProgress>? progress = null, bool force = false,
                                               CancellationToken ct = default)
    {
        var full = Path.GetFullPath(destination);
        var name = Path.GetFileName(full);
        sha256 = sha256?.ToLowerInvariant();
        if (File.Exists(full) && !force) return await Existing(full, sha256, size, ct);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var part = PartPath(full);
        var (resumedFrom, total) = await Transfer(url, part, name, progress, ct);
        var bytes = new FileInfo(part).Length;
        if (total is long t && bytes != t)
            throw new DownloadInterruptedException($"{url}: the transfer ended after {bytes} of {t} bytes; run the command again to resume.");
        if (size is long want && bytes != want)
        {
            TryDelete(part);
            throw new InvalidDataException($"{url}: {bytes} bytes where the released file has {want}; the download was removed (nothing at {full}).");
        }
        var hash = await HashAsync(part, ct);
        if (sha256 is not null && hash != sha256)
        {
            TryDelete(part);
            throw new InvalidDataException($"{url}: SHA-256 {hash} does not match the expected {sha256}; the download was removed (nothing at {full}).");
        }
        using (var fs = new FileStream(part, FileMode.Open, FileAccess.ReadWrite)) fs.Flush(flushToDisk: true);
        File.Move(part, full, overwrite: true);
        return new DownloadResult(full, bytes, hash, resumedFrom, sha256 is not null, AlreadyThere: false);
    }

    /// <summary>A destination present before: only a completed download is renamed there, so it is whole; checked when we can.</summary>
    static async Task<DownloadResult> Existing(string full, string? sha256, long? size, CancellationToken ct)
    {
        var bytes = new FileInfo(full).Length;
        if (size is long want && bytes != want)
            throw new InvalidDataException($"{full}: already there but {bytes} bytes where the released file has {want}; remove it, or download again with --force.");
        var hash = await HashAsync(full, ct);
        if (sha256 is not null && hash != sha256)
            throw new InvalidDataException($"{full}: already there but its SHA-256 {hash} is not the expected {sha256}; remove it, or download again with --force.");
        return new DownloadResult(full, bytes, hash, 0, sha256 is not null, AlreadyThere: true);
    }

    /// <summary>Appends the rest of the file to <paramref name="part"/>; returns the bytes kept from before and the file's announced size.</summary>
    async Task<(long ResumedFrom, long? Total)> Transfer(Uri url, string part, string name, Action<DownloadProgress>? progress, CancellationToken ct)
    {
        long offset = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        long? total;
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && offset > 0)
        {
            // The .part already holds every byte (a run that stopped between the transfer and the rename), or is longer than
            // the file now is: then it is not this file's beginning, and the download starts over.
            total = response.Content.Headers.ContentRange?.Length;
            if (total == offset) return (offset, total);
            TryDelete(part);
            return await Transfer(url, part, name, progress, ct);
        }
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{url}: the server answered {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
        if (response.StatusCode == HttpStatusCode.PartialContent)
        {
            var range = response.Content.Headers.ContentRange;
            if (offset == 0 || range?.From != offset)
                throw new InvalidDataException($"{url}: asked for the bytes from {offset}, the server sent {range?.ToString() ?? "a part without Content-Range"}; " +
                                               $"remove {part} and run again.");
            total = range.Length;
        }
        else
        {
            offset = 0;                                       // 200: the whole file again (a server without ranges)
            total = response.Content.Headers.ContentLength;
        }
        await using var output = new FileStream(part, offset > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferBytes);
        long done = offset;
        progress?.Invoke(new DownloadProgress(name, done, total));
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var buffer = new byte[BufferBytes];
            int n;
            while (true)
            {
                stall.CancelAfter(StallTimeout);
                try { n = await body.ReadAsync(buffer, stall.Token); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new IOException($"no data for {StallTimeout.TotalSeconds:F0} s");
                }
                if (n == 0) break;
                await output.WriteAsync(buffer.AsMemory(0, n), ct);
                done += n;
                progress?.Invoke(new DownloadProgress(name, done, total));
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
        {
            await output.FlushAsync(CancellationToken.None);
            throw new DownloadInterruptedException(
                string.Create(CultureInfo.InvariantCulture, $"{url}: the transfer broke off after {done}{(total is long t ? $" of {t}" : "")} bytes ({e.Message}); ") +
                $"the bytes received are kept in {part}: run the command again to resume.", e);
        }
        return (offset, total);
    }

    /// <summary>SHA-256 of a file, lower-case hex.</summary>
    public static async Task<string> HashAsync(string path, CancellationToken ct = default)
    {
        await using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(fs, ct));
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { /* left behind: the next run replaces it */ }
    }
}
