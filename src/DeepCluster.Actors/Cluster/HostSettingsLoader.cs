using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Akka.Configuration;
using DeepCluster.Actors.Hosting;

namespace DeepCluster.Actors.Cluster;

/// <summary>
/// Reads <c>deepcluster.host</c> from a configuration checked by <see cref="Hosting.HostConfig.Load"/>, applies the
/// flags that override it, and checks the result: values (roles, ports, seed-node addresses, sizes), certificates
/// (each one loaded with its password), settings that contradict each other (a node with nobody to join; several
/// nodes on the SQLite journal) and security (a non-loopback address without TLS, or an API without HTTPS, refused
/// unless <c>allow-insecure = on</c>). Each error is one <see cref="InvalidDataException"/> line naming the file (or
/// flag), the key and the reason.
/// </summary>
public static partial class HostSettingsLoader
{
    public const string Prefix = "deepcluster.host";

    /// <summary>The keys these settings are read from (every <c>deepcluster.host</c> key of the shipped file).</summary>
    public static IReadOnlyList<string> Keys { get; } =
        new[] { "roles", "hostname", "port", "seed-nodes", "experiments", "allow-insecure", "maximum-frame-size", "stable-after",
                "tls.certificate", "tls.password", "tls.trusted-thumbprints",
                "api.bind", "api.port", "api.token-file", "api.certificate", "api.certificate-password" }.Select(k => $"{Prefix}.{k}").ToList();

    const string AllowInsecureKey = Prefix + ".allow-insecure";

    /// <param name="config">The merged configuration (<see cref="Hosting.HostConfig.Load"/>, <c>--journal</c> applied).</param>
    /// <param name="file">The configuration file as errors name it.</param>
    /// <param name="baseDir">Relative paths in the configuration are relative to this folder (the config file's).</param>
    /// <param name="flags">The flags of <c>deepcluster host</c>; they override the configuration.</param>
    public static HostSettings From(Config config, string file, string baseDir, HostOverrides? flags = null)
    {
        flags ??= new HostOverrides();
        var read = new Reader(config, file);

        var roles = Roles(flags.Roles is null ? read.Strings("roles") : flags.Roles, flags.Roles is null ? read.Where("roles") : "--roles");
        var tls = Tls(read, baseDir);
        var hostname = read.Text("hostname") ?? "127.0.0.1";
        if (hostname is "0.0.0.0" or "::" or "*")
            throw read.Error("hostname", $"not an address other nodes can reach; give this machine's name or IP address " +
                                         "(127.0.0.1 for one machine)");
        var port = flags.Port is { } p ? Port(p, "--port", allowZero: true) : read.Port("port", 4053, allowZero: true);
        var seedWhere = flags.SeedNodes is null ? read.Where("seed-nodes") : "--seed-nodes";
        var seeds = (flags.SeedNodes ?? read.Strings("seed-nodes")).Select(s => SeedNode(s, seedWhere, tls is not null)).Distinct().ToList();
        var experiments = flags.Experiments ?? read.Text("experiments") ?? "experiments";
        var settings = new HostSettings
        {
            Roles = roles,
            Hostname = hostname,
            Port = port,
            SeedNodes = seeds,
            ExperimentsRoot = Path.GetFullPath(flags.Experiments is null ? Path.Combine(baseDir, experiments) : experiments),
            Api = Api(read, baseDir, flags, roles.Contains(HostRoles.Api)),
            Tls = tls,
            AllowInsecure = read.Boolean("allow-insecure"),
            MaximumFrameSize = read.FrameSize("maximum-frame-size"),
            StableAfter = read.Duration("stable-after", TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10)),
        };
        CheckTogether(settings, read, JournalSettings.From(config), flags);
        return settings;
    }

    /// <summary>Settings that are each valid but contradict one another, and the security rules.</summary>
    static void CheckTogether(HostSettings s, Reader read, JournalSettings journal, HostOverrides flags)
    {
        var seedsFrom = flags.SeedNodes is null ? read.Where("seed-nodes") : "--seed-nodes";
        if (s.SeedNodes.Count == 0 && !s.Has(HostRoles.Coordinator))
            throw new InvalidDataException($"{seedsFrom} is empty and the node has no {HostRoles.Coordinator} role " +
                                           $"({(flags.Roles is null ? read.Where("roles") : "--roles")} = {string.Join(", ", s.Roles)}): it has nobody to join; " +
                                           "give the coordinator's address as a seed node (akka.tcp://deepcluster@HOST:PORT).");
        if (s.SeedNodes.Count > 0 && journal.Provider == JournalProvider.Sqlite)
            throw new InvalidDataException($"{seedsFrom} makes a cluster of several nodes, but {(flags.Journal is null ? read.Where(JournalSettings.ProviderKey, absolute: true) : "--journal")} = sqlite: " +
                                           "every node must share one journal; set deepcluster.journal.provider = postgresql (and its " +
                                           "connection-string, e.g. config/persistence-postgres.conf), or leave seed-nodes empty for one node.");
        if (s.Has(HostRoles.Api) && s.Port != 0 && s.Api.Port == s.Port && SameInterface(s.Hostname, s.Api.Bind))
            throw new InvalidDataException($"{(flags.ApiPort is null ? read.Where("api.port") : "--api-port")} = {s.Api.Port} is also the remoting port " +
                                           $"({(flags.Port is null ? read.Where("port") : "--port")}); give them different ports.");
        if (s.AllowInsecure) return;
        if (s.Tls is null && !IsLoopback(s.Hostname))
            throw new InvalidDataException($"{read.Where("hostname")} = {s.Hostname} is not a loopback address and remoting has no TLS: " +
                                           $"anyone who reaches port {s.Port} can join the cluster and run code in it; set {Prefix}.tls.certificate " +
                                           $"(a PKCS#12 file, see README \"Security\"), or {AllowInsecureKey} = on on a network you trust.");
        if (s.Has(HostRoles.Api) && s.Api.Certificate is null && !IsLoopback(s.Api.Bind))
            throw new InvalidDataException($"{read.Where("api.bind")} = {s.Api.Bind} is not a loopback address and the API has no HTTPS: " +
                                           $"its bearer token would cross the network in clear; set {Prefix}.api.certificate (a PKCS#12 file), " +
                                           $"or {AllowInsecureKey} = on on a network you trust.");
    }

    static IReadOnlyList<string> Roles(IReadOnlyList<string> roles, string where)
    {
        var list = roles.Select(r => r.Trim()).Where(r => r.Length > 0).ToList();
        if (list.Count == 0)
            throw new InvalidDataException($"{where} is empty: give at least one of {string.Join(", ", HostRoles.All)}.");
        foreach (var r in list)
            if (!HostRoles.All.Contains(r))
                throw new InvalidDataException($"{where}: unknown role {r}; expected some of {string.Join(", ", HostRoles.All)}.");
        return list.Distinct().ToList();
    }

    static int Port(long value, string where, bool allowZero)
    {
        if (value < (allowZero ? 0 : 1) || value > 65535)
            throw new InvalidDataException($"{where} = {value}: expected a port from {(allowZero ? "0 (any free port)" : "1")} to 65535.");
        return (int)value;
    }

    /// <summary>A seed node, written with the protocol this node speaks (it follows <c>tls.certificate</c>).</summary>
    static string SeedNode(string text, string where, bool tls)
    {
        var m = SeedNodePattern().Match(text.Trim());
        if (!m.Success)
            throw new InvalidDataException($"{where}: {text} is not a seed node address; expected akka.tcp://{HostSettings.SystemName}@HOST:PORT.");
        if (m.Groups["system"].Value != HostSettings.SystemName)
            throw new InvalidDataException($"{where}: {text}: the actor system of every node is named {HostSettings.SystemName}, not " +
                                           $"{m.Groups["system"].Value} (akka.tcp://{HostSettings.SystemName}@HOST:PORT).");
        if (!int.TryParse(m.Groups["port"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new InvalidDataException($"{where}: {text}: the port must be from 1 to 65535.");
        return $"{(tls ? "akka.ssl.tcp" : "akka.tcp")}://{HostSettings.SystemName}@{m.Groups["host"].Value}:{port}";
    }

    [GeneratedRegex(@"^akka(\.ssl)?\.tcp://(?<system>[A-Za-z0-9][A-Za-z0-9_-]*)@(?<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?<port>[0-9]{1,5})/?$")]
    private static partial Regex SeedNodePattern();

    static RemoteTlsSettings? Tls(Reader read, string baseDir)
    {
        var path = read.Text("tls.certificate");
        var password = read.Text("tls.password");
        var trusted = read.Strings("tls.trusted-thumbprints");
        if (path is null)
        {
            if (password is not null || trusted.Count > 0)
                throw read.SetWithout(password is not null ? "tls.password" : "tls.trusted-thumbprints", "tls.certificate", "remoting TLS is off");
            return null;
        }
        var full = Path.GetFullPath(Path.Combine(baseDir, path));
        using (Certificate(read, "tls.certificate", full, password)) { }
        var thumbprints = new List<string>();
        foreach (var t in trusted)
        {
            var hex = t.Replace(" ", "").Replace(":", "").ToUpperInvariant();
            if (!ThumbprintPattern().IsMatch(hex))
                throw new InvalidDataException($"{read.Where("tls.trusted-thumbprints")}: {t} is not a certificate thumbprint (40 hexadecimal digits, SHA-1).");
            thumbprints.Add(hex);
        }
        return new RemoteTlsSettings(full, password) { TrustedThumbprints = thumbprints };
    }

    [GeneratedRegex("^[0-9A-F]{40}$")]
    private static partial Regex ThumbprintPattern();

    static ApiSettings Api(Reader read, string baseDir, HostOverrides flags, bool serves)
    {
        var certificate = read.Text("api.certificate");
        var password = read.Text("api.certificate-password");
        string? full = null;
        if (certificate is null && password is not null)
            throw read.SetWithout("api.certificate-password", "api.certificate", "the API is plain HTTP");
        if (certificate is not null)
        {
            full = Path.GetFullPath(Path.Combine(baseDir, certificate));
            if (serves) using (Certificate(read, "api.certificate", full, password)) { }
        }
        var bind = read.Text("api.bind") ?? "127.0.0.1";
        if (bind != "*" && bind != "localhost" && !IPAddress.TryParse(bind, out _))
            throw read.Error("api.bind", $"not an IP address (127.0.0.1, 0.0.0.0 for every interface, or one interface's address)");
        return new ApiSettings(bind,
                               flags.ApiPort is { } p ? Port(p, "--api-port", allowZero: true) : read.Port("api.port", 8484, allowZero: true),
                               Path.GetFullPath(Path.Combine(baseDir, read.Text("api.token-file") ?? "api.token")),
                               full, password);
    }

    /// <summary>Loads a PKCS#12 file with its password: it must exist, open, hold a private key and be in date.</summary>
    static X509Certificate2 Certificate(Reader read, string key, string path, string? password)
    {
        if (!File.Exists(path)) throw read.Error(key, $"no such file ({path})");
        X509Certificate2 certificate;
        try { certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password); }
        catch (CryptographicException e)
        { throw read.Error(key, $"cannot be opened as a PKCS#12 file with {(password is null ? "no password" : "the password given")} ({e.Message.TrimEnd('.')})"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw read.Error(key, $"cannot be read ({e.Message.TrimEnd('.')})"); }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw read.Error(key, "holds no private key; export the certificate with its key (PKCS#12)");
        }
        if (certificate.NotAfter < DateTime.Now || certificate.NotBefore > DateTime.Now)
        {
            var (from, to) = (certificate.NotBefore, certificate.NotAfter);
            certificate.Dispose();
            throw read.Error(key, $"valid from {from:u} to {to:u}, not now");
        }
        return certificate;
    }

    /// <summary>127.0.0.0/8, ::1 or localhost.</summary>
    internal static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    static bool SameInterface(string hostname, string bind) =>
        bind is "0.0.0.0" or "::" or "*" || hostname == bind || (IsLoopback(hostname) && IsLoopback(bind));

    /// <summary>Reads <c>deepcluster.host.*</c> values; its errors name the file and the key.</summary>
    sealed class Reader(Config config, string file)
    {
        public string Where(string key, bool absolute = false) => $"{file}: {(absolute ? key : $"{Prefix}.{key}")}";

        /// <summary>"FILE: KEY = VALUE: reason."</summary>
        public InvalidDataException Error(string key, string reason) => new($"{Where(key)} = {Text(key) ?? "(none)"}: {reason}.");

        /// <summary>"FILE: KEY is set but …" (a setting that needs another one).</summary>
        public InvalidDataException SetWithout(string key, string other, string meaning) =>
            new($"{Where(key)} is set but {Prefix}.{other} is empty ({meaning}); set {other} or remove {key}.");

        public string? Text(string key)
        {
            var full = $"{Prefix}.{key}";
            var raw = config.HasPath(full) ? config.GetValue(full) : null;
            var s = raw is null || raw.IsEmpty || raw.IsObject() || raw.IsArray() ? null : raw.GetString();
            return string.IsNullOrWhiteSpace(s) ? null : s.Trim();
        }

        public IReadOnlyList<string> Strings(string key)
        {
            var full = $"{Prefix}.{key}";
            if (!config.HasPath(full)) return [];
            var raw = config.GetValue(full);
            if (raw.IsObject() || (raw.IsString() && !raw.IsEmpty)) throw new InvalidDataException($"{Where(key)} must be a list [a, b, ...].");
            IList<string> items;
            try { items = config.GetStringList(full); }
            catch (Exception e) when (e is not OutOfMemoryException) { throw new InvalidDataException($"{Where(key)} must be a list of strings [a, b, ...]."); }
            return items.Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v.Trim()).ToList();
        }

        public int Port(string key, int fallback, bool allowZero)
        {
            var text = Text(key);
            if (text is null) return fallback;
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                throw new InvalidDataException($"{Where(key)} = {text}: expected a port from {(allowZero ? "0 (any free port)" : "1")} to 65535.");
            return HostSettingsLoader.Port(v, Where(key), allowZero);
        }

        public bool Boolean(string key)
        {
            var text = Text(key);
            return text switch
            {
                null or "off" or "false" or "no" => false,
                "on" or "true" or "yes" => true,
                _ => throw new InvalidDataException($"{Where(key)} = {text}: expected on or off."),
            };
        }

        public long FrameSize(string key)
        {
            var text = Text(key);
            if (text is null) return HostSettings.DefaultMaximumFrameSize;
            long? bytes;
            try { bytes = config.GetByteSize($"{Prefix}.{key}"); }
            catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or ConfigurationException) { bytes = null; }
            const long max = 16 << 20;
            if (bytes is not { } b || b < 32_000 || b > max)
                throw new InvalidDataException($"{Where(key)} = {text}: expected a size from 32000b to 16MiB (e.g. 128000b); large data goes " +
                                               "through files on the shared folder, never in messages.");
            return b;
        }

        public TimeSpan Duration(string key, TimeSpan min, TimeSpan max)
        {
            var text = Text(key);
            if (text is null) return TimeSpan.FromSeconds(20);
            TimeSpan? value;
            try { value = config.GetTimeSpan($"{Prefix}.{key}", null, allowInfinite: false); }
            catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or ConfigurationException) { value = null; }
            if (value is not { } v || v < min || v > max)
                throw new InvalidDataException($"{Where(key)} = {text}: expected a duration from {min.TotalSeconds:0}s to {max.TotalMinutes:0}min (e.g. 20s).");
            return v;
        }
    }
}
