using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DeepCluster.Core.Tests.Export;

/// <summary>
/// A minimal HTTP/1.1 file server on 127.0.0.1 (an ephemeral port) for the download tests: serves its files with
/// <c>Content-Length</c>, honours <c>Range: bytes=N-</c> (206 with <c>Content-Range</c>; 416 past the end), records each
/// request's path and Range header, and can break a transfer off: the next <see cref="DropAfter"/> bytes are sent, then
/// the connection is closed before the rest. One response per connection (<c>Connection: close</c>).
/// </summary>
public sealed class LocalFileServer : IDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource stop = new();
    readonly Task loop;
    readonly object gate = new();
    readonly List<(string Path, string? Range)> requests = new();

    /// <summary>The files served, by path (e.g. <c>/alexnet/checkpoint.pth.tar</c>).</summary>
    public Dictionary<string, byte[]> Files { get; } = new();

    /// <summary>When set, the next response sends only this many body bytes, then closes the connection (then it is cleared).</summary>
    public int? DropAfter { get; set; }

    /// <summary>Answer every request with the whole file (200), ignoring Range, as a server without range support does.</summary>
    public bool IgnoreRange { get; set; }

    public LocalFileServer()
    {
        listener.Start();
        loop = Task.Run(Serve);
    }

    /// <summary>The base URL, without a trailing '/'.</summary>
    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";

    /// <summary>The requests received so far: path and Range header (null when absent).</summary>
    public IReadOnlyList<(string Path, string? Range)> Requests { get { lock (gate) return requests.ToList(); } }

    async Task Serve()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Answer(client));
        }
    }

    async Task Answer(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var (path, range) = await ReadRequest(stream);
            lock (gate) requests.Add((path, range));
            if (!Files.TryGetValue(path, out var body))
            {
                await Write(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                return;
            }
            long from = 0;
            string status = "200 OK", extra = "";
            if (range is not null && !IgnoreRange && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
            {
                from = long.Parse(range["bytes=".Length..^1]);
                if (from >= body.Length)
                {
                    await Write(stream, $"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{body.Length}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    return;
                }
                status = "206 Partial Content";
                extra = $"Content-Range: bytes {from}-{body.Length - 1}/{body.Length}\r\n";
            }
            await Write(stream, $"HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\n{extra}" +
                                $"Content-Length: {body.Length - from}\r\nConnection: close\r\n\r\n");
            int send = body.Length - (int)from;
            int? drop;
            lock (gate) { drop = DropAfter; DropAfter = null; }
            if (drop is int d && d < send) send = d;
            await stream.WriteAsync(body.AsMemory((int)from, send));
            await stream.FlushAsync();
            if (drop is not null) client.Client.Shutdown(SocketShutdown.Send);   // the connection ends mid-body
        }
        catch (IOException) { /* the client went away */ }
    }

    static async Task<(string Path, string? Range)> ReadRequest(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (!(bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0) throw new IOException("the client closed the connection");
            bytes.Add(one[0]);
        }
        var lines = Encoding.ASCII.GetString(bytes.ToArray()).Split("\r\n");
        var path = lines[0].Split(' ')[1];
        var range = lines.Skip(1).FirstOrDefault(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))?["Range:".Length..].Trim();
        return (path, range);
    }

    static Task Write(NetworkStream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        try { loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { /* stopped */ }
    }
}
