using Akka.Configuration;
using DeepCluster.Core.Experiment;
using Npgsql;

namespace DeepCluster.Actors.Hosting;

/// <summary>Where experiments are journaled.</summary>
public enum JournalProvider
{
    /// <summary><c>experiment.db</c> in each experiment folder: one experiment per file, one node.</summary>
    Sqlite,
    /// <summary>One PostgreSQL database shared by every experiment (and node); each is its own persistence id.</summary>
    PostgreSql,
}

/// <summary>
/// The <c>deepcluster.journal</c> settings (<c>provider</c>, <c>connection-string</c>), or the <c>--journal</c> flag
/// that overrides them. For PostgreSQL the connection string is Npgsql's (<c>Host=…;Database=…</c>); a
/// <c>postgres://user:password@host:port/database</c> URL is accepted and converted.
/// </summary>
public sealed record JournalSettings(JournalProvider Provider, string ConnectionString)
{
    public const string ProviderKey = "deepcluster.journal.provider";
    public const string ConnectionStringKey = "deepcluster.journal.connection-string";

    /// <summary>The keys these settings are read from.</summary>
    public static IReadOnlyList<string> Keys { get; } = [ProviderKey, ConnectionStringKey];

    /// <summary>The shipped default: SQLite in the experiment folder.</summary>
    public static JournalSettings Default { get; } = new(JournalProvider.Sqlite, "");

    const string Example = "e.g. \"Host=db.example;Port=5432;Database=deepcluster;Username=deepcluster;Password=…\" " +
                           "or postgres://deepcluster:…@db.example:5432/deepcluster";

    /// <summary>The settings of a configuration checked by <see cref="HostConfig.Load"/> (the defaults where absent).</summary>
    public static JournalSettings From(Config config)
    {
        var provider = Text(config, ProviderKey) ?? "sqlite";
        var connection = Text(config, ConnectionStringKey) ?? "";
        return provider == "postgresql" ? new(JournalProvider.PostgreSql, ToNpgsql(connection)) : Default;
    }

    /// <summary>Checks the merged configuration; the error names <paramref name="file"/> and the key.</summary>
    internal static void Check(Config config, string file)
    {
        var provider = Text(config, ProviderKey);
        var connection = Text(config, ConnectionStringKey) ?? "";
        switch (provider)
        {
            case "sqlite" when connection.Trim().Length > 0:
                throw new InvalidDataException($"{file}: {ConnectionStringKey} is set but {ProviderKey} = sqlite (the SQLite journal " +
                                               "is experiment.db in the experiment folder): set provider = postgresql, or remove it.");
            case "sqlite":
                return;
            case "postgresql" when connection.Trim().Length == 0:
                throw new InvalidDataException($"{file}: {ProviderKey} = postgresql needs {ConnectionStringKey} ({Example}).");
            case "postgresql":
                try { ToNpgsql(connection); }
                catch (ArgumentException e) { throw new InvalidDataException($"{file}: {ConnectionStringKey}: {e.Message}"); }
                return;
            default:
                throw new InvalidDataException($"{file}: {ProviderKey} = {provider ?? "(none)"}: expected sqlite or postgresql.");
        }
    }

    /// <summary>
    /// The <c>--journal</c> flag as HOCON that overrides <c>deepcluster.journal</c>: <c>sqlite</c>, a
    /// <c>postgres://</c> URL or an Npgsql connection string. <see cref="ArgumentException"/> (never echoing a password)
    /// when it is none of these.
    /// </summary>
    public static Config FlagToHocon(string value)
    {
        var v = value.Trim();
        if (v == "sqlite")
            return ConfigurationFactory.ParseString($"{ProviderKey} = sqlite\n{ConnectionStringKey} = \"\"");
        if (!IsUrl(v) && !v.Contains('='))
            throw new ArgumentException($"--journal {v}: expected sqlite, a postgres:// URL or an Npgsql connection string ({Example}).");
        string connection;
        try { connection = ToNpgsql(v); }
        catch (ArgumentException e) { throw new ArgumentException($"--journal: {e.Message}"); }
        return ConfigurationFactory.ParseString($"{ProviderKey} = postgresql\n{ConnectionStringKey} = \"{Escape(connection)}\"");
    }

    /// <summary>A PostgreSQL URL converted to Npgsql's form; an Npgsql connection string checked and returned as is.</summary>
    internal static string ToNpgsql(string connection)
    {
        if (!IsUrl(connection))
        {
            try { return new NpgsqlConnectionStringBuilder(connection).ConnectionString; }
            catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
            { throw new ArgumentException($"not a valid Npgsql connection string ({e.Message})"); }
        }
        if (!Uri.TryCreate(connection, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw new ArgumentException($"not a valid postgres:// URL ({Example})");
        var b = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port };
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0) b.Database = database;
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            try
            {
                switch (key)
                {
                    case "sslmode": b.SslMode = Enum.Parse<SslMode>(value.Replace("-", ""), ignoreCase: true); break;
                    case "connect_timeout": b.Timeout = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                    case "application_name": b.ApplicationName = value; break;
                    default: b[key] = value; break;
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException or OverflowException)
            { throw new ArgumentException($"URL parameter {key}: not understood ({e.Message})"); }
        }
        return b.ConnectionString;
    }

    static bool IsUrl(string s) =>
        s.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || s.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The server as errors name it: user@host:port/database, never the password.</summary>
    public string Server
    {
        get
        {
            if (Provider != JournalProvider.PostgreSql) return "";
            var b = new NpgsqlConnectionStringBuilder(ConnectionString);
            var user = string.IsNullOrEmpty(b.Username) ? "" : b.Username + "@";
            return $"{user}{b.Host ?? "localhost"}:{b.Port}/{b.Database ?? b.Username ?? ""}";
        }
    }

    /// <summary>Akka.Persistence.Sql's provider (linq2db's name): <c>PostgreSQL.15</c> or Microsoft.Data.Sqlite.</summary>
    public string ProviderName => Provider == JournalProvider.PostgreSql
        ? LinqToDB.ProviderName.PostgreSQL15 : LinqToDB.ProviderName.SQLiteMS;

    /// <summary>The journal's connection string for <paramref name="folder"/>: the server's, or the folder's SQLite file.</summary>
    public string ConnectionStringFor(ExperimentFolder folder) =>
        Provider == JournalProvider.PostgreSql ? ConnectionString : $"Data Source={folder.JournalPath}";

    /// <summary>How errors name the journal of <paramref name="folder"/>: its SQLite file, or the PostgreSQL server.</summary>
    public string Describe(ExperimentFolder folder) =>
        Provider == JournalProvider.PostgreSql ? $"PostgreSQL journal {Server}" : folder.JournalPath;

    static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");

    static string? Text(Config config, string key)
    {
        var raw = config.HasPath(key) ? config.GetValue(key) : null;
        return raw is null || raw.IsEmpty || raw.IsObject() || raw.IsArray() ? null : raw.GetString();
    }
}
