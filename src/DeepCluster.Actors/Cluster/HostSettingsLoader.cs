using Akka.Configuration;

namespace DeepCluster.Actors.Cluster;

/// <summary>
/// Reads <c>deepcluster.host</c> from a configuration checked by <see cref="Hosting.HostConfig.Load"/>, applies the
/// flags that override it, and checks the result; an error names the file (or flag) and the key.
/// </summary>
public static class HostSettingsLoader
{
    public const string Prefix = "deepcluster.host";

    /// <summary>The keys these settings are read from (every <c>deepcluster.host</c> key of the shipped file).</summary>
    public static IReadOnlyList<string> Keys { get; } =
        new[] { "roles", "hostname", "port", "seed-nodes", "experiments", "allow-insecure", "tls.certificate", "tls.password",
                "api.bind", "api.port", "api.token-file", "api.certificate", "api.certificate-password" }.Select(k => $"{Prefix}.{k}").ToList();

    /// <param name="config">The merged configuration.</param>
    /// <param name="file">The configuration file as errors name it.</param>
    /// <param name="baseDir">Relative paths in the configuration are relative to this folder (the config file's).</param>
    public static HostSettings From(Config config, string file, string baseDir, HostOverrides? flags = null)
    {
        flags ??= new HostOverrides();
        var roles = flags.Roles ?? Strings(config, $"{Prefix}.roles");
        foreach (var r in roles)
            if (!HostRoles.All.Contains(r))
                throw new InvalidDataException($"{(flags.Roles is null ? $"{file}: {Prefix}.roles" : "--roles")}: unknown role {r}; " +
                                               $"expected some of {string.Join(", ", HostRoles.All)}.");
        if (roles.Count == 0) throw new InvalidDataException($"{file}: {Prefix}.roles is empty; give at least one of {string.Join(", ", HostRoles.All)}.");
        var certificate = Text(config, $"{Prefix}.api.certificate");
        var tls = Text(config, $"{Prefix}.tls.certificate");
        return new HostSettings
        {
            Roles = roles.Distinct().ToList(),
            Hostname = Text(config, $"{Prefix}.hostname") ?? "127.0.0.1",
            Port = flags.Port ?? config.GetInt($"{Prefix}.port", 4053),
            SeedNodes = flags.SeedNodes ?? Strings(config, $"{Prefix}.seed-nodes"),
            ExperimentsRoot = Path.GetFullPath(flags.Experiments ?? Path.Combine(baseDir, Text(config, $"{Prefix}.experiments") ?? "experiments")),
            Api = new ApiSettings(
                Text(config, $"{Prefix}.api.bind") ?? "127.0.0.1",
                flags.ApiPort ?? config.GetInt($"{Prefix}.api.port", 8484),
                Path.GetFullPath(Path.Combine(baseDir, Text(config, $"{Prefix}.api.token-file") ?? "api.token")),
                certificate is null ? null : Path.GetFullPath(Path.Combine(baseDir, certificate)),
                Text(config, $"{Prefix}.api.certificate-password")),
            Tls = tls is null ? null : new RemoteTlsSettings(Path.GetFullPath(Path.Combine(baseDir, tls)), Text(config, $"{Prefix}.tls.password")),
            AllowInsecure = config.GetBoolean($"{Prefix}.allow-insecure", false),
        };
    }

    static string? Text(Config config, string key)
    {
        var raw = config.HasPath(key) ? config.GetValue(key) : null;
        var s = raw is null || raw.IsEmpty || raw.IsObject() || raw.IsArray() ? null : raw.GetString();
        return string.IsNullOrWhiteSpace(s) ? null : s;
    }

    static IReadOnlyList<string> Strings(Config config, string key) =>
        config.HasPath(key) ? config.GetStringList(key).Where(s => !string.IsNullOrWhiteSpace(s)).ToList() : [];
}
