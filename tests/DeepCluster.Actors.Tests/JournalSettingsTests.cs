using DeepCluster.Actors.Hosting;
using DeepCluster.Core.Tests.Support;
using Npgsql;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// <c>deepcluster.journal</c> and <c>--journal</c>: SQLite by default, PostgreSQL with a connection string (Npgsql's or a
/// postgres:// URL); anything else is one line naming the key or the flag, never echoing a password.
/// </summary>
[Collection("console")]
public class JournalSettingsTests
{
    static InvalidDataException ConfigError(string text)
    {
        using var dir = new TempDir();
        var conf = dir.File("user.conf");
        File.WriteAllText(conf, text);
        var e = Assert.Throws<InvalidDataException>(() => HostConfig.Load(conf));
        Assert.StartsWith(conf + ": ", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        return e;
    }

    [Fact]
    public void AnUnknownProviderIsNamed()
    {
        var e = ConfigError("deepcluster.journal.provider = mysql\n");
        Assert.Contains("deepcluster.journal.provider = mysql: expected sqlite or postgresql", e.Message);
    }

    [Fact]
    public void PostgresqlWithoutAConnectionStringIsRefused()
    {
        var e = ConfigError("deepcluster.journal { provider = postgresql }\n");
        Assert.Contains("deepcluster.journal.provider = postgresql needs deepcluster.journal.connection-string", e.Message);
    }

    [Fact]
    public void AConnectionStringForSqliteIsContradictory()
    {
        var e = ConfigError("deepcluster.journal.connection-string = \"Host=db\"\n");
        Assert.Contains("deepcluster.journal.connection-string is set but deepcluster.journal.provider = sqlite", e.Message);
    }

    [Fact]
    public void ABadConnectionStringNamesTheKeyNotThePassword()
    {
        var e = ConfigError("deepcluster.journal { provider = postgresql, connection-string = \"Host=db;Password=hunter2;Colour=red\" }\n");
        Assert.Contains("deepcluster.journal.connection-string: not a valid Npgsql connection string", e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void AnUnknownJournalKeyIsNamed()
    {
        var e = ConfigError("deepcluster.journal.url = \"x\"\n");
        Assert.Contains("unknown key deepcluster.journal.url", e.Message);
    }

    [Fact]
    public void TheConfiguredServerIsUsed()
    {
        using var dir = new TempDir();
        var conf = dir.File("pg.conf");
        File.WriteAllText(conf, "deepcluster.journal {\n  provider = postgresql\n  connection-string = \"Host=db.example;Database=dc;Username=u;Password=p\"\n}\n");
        var journal = JournalSettings.From(HostConfig.Load(conf).Hocon);
        Assert.Equal(JournalProvider.PostgreSql, journal.Provider);
        Assert.Equal("u@db.example:5432/dc", journal.Server);
        Assert.Equal(LinqToDB.ProviderName.PostgreSQL15, journal.ProviderName);
        // --journal overrides the file.
        Assert.Equal(JournalSettings.Default, JournalSettings.From(HostConfig.Load(conf, "sqlite").Hocon));
    }

    [Fact]
    public void APostgresUrlBecomesAnNpgsqlConnectionString()
    {
        var journal = JournalSettings.From(HostConfig.Load(null, "postgres://dc%40corp:p%3Ass%2Fw@db.example:6543/exp_db?sslmode=require").Hocon);
        var b = new NpgsqlConnectionStringBuilder(journal.ConnectionString);
        Assert.Equal(("db.example", 6543, "exp_db", "dc@corp", "p:ss/w", SslMode.Require),
                     (b.Host, b.Port, b.Database, b.Username, b.Password, b.SslMode));
        Assert.Equal("dc@corp@db.example:6543/exp_db", journal.Server);
    }

    [Fact]
    public void AnNpgsqlConnectionStringIsKeptWithItsQuotesAndBackslashes()
    {
        var journal = JournalSettings.From(HostConfig.Load(null, "Host=h;Port=7000;Database=d;Username=u;Password='a\\b\"c'").Hocon);
        var b = new NpgsqlConnectionStringBuilder(journal.ConnectionString);
        Assert.Equal(("h", 7000, "a\\b\"c"), (b.Host, b.Port, b.Password));
    }

    [Theory]
    [InlineData("mysql", "--journal mysql: expected sqlite, a postgres:// URL or an Npgsql connection string")]
    [InlineData("Host=h;Password=hunter2;Colour=red", "--journal: not a valid Npgsql connection string")]
    [InlineData("postgres://u:hunter2@h/d?colour=red", "--journal: URL parameter colour: not understood")]
    public void ABadJournalFlagIsOneLineAndExit2(string value, string expected)
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var (code, output, err) = TrainCliTests.Run(TrainCliTests.Small(exp, "--journal", value));
        CliErrors.AssertOneLine(code, output, err, expected);
        Assert.DoesNotContain("hunter2", err);
        Assert.False(Directory.Exists(exp));
    }

    [Fact]
    public void TheFlagIsHoconThatRoundTrips()
    {
        var settings = JournalSettings.From(JournalSettings.FlagToHocon("Host=h;Password=\"x\\y\""));
        Assert.Equal("x\\y", new NpgsqlConnectionStringBuilder(settings.ConnectionString).Password);
    }
}
