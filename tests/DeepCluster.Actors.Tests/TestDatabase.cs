using Npgsql;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// A database of its own for one test, on the PostgreSQL server named by <c>DEEPCLUSTER_TEST_PG</c> (an Npgsql
/// connection string whose user may create databases: tests/run.sh starts such a throwaway server with
/// deploy/postgres-test.sh); dropped on dispose. Without the variable the test fails, saying how to start one.
/// </summary>
public sealed class TestDatabase : IDisposable
{
    public const string Variable = "DEEPCLUSTER_TEST_PG";
    readonly string server;
    readonly string name = "dc_test_" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The connection string of this test's database.</summary>
    public string ConnectionString { get; }

    /// <summary>The server's connection string (its own database), from <c>DEEPCLUSTER_TEST_PG</c>.</summary>
    public static string Server => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } cs
        ? cs
        : throw new InvalidOperationException(
            $"{Variable} is not set: these tests need a PostgreSQL server. Start a throwaway one with " +
            "`eval \"$(deploy/postgres-test.sh start)\"` (and `deploy/postgres-test.sh stop` after), or run tests/run.sh, " +
            "which does both.");

    public TestDatabase()
    {
        server = new NpgsqlConnectionStringBuilder(Server) { Pooling = false }.ConnectionString;
        Execute(server, $"CREATE DATABASE {name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    /// <summary>The first column of every row of <paramref name="sql"/>, run in this test's database.</summary>
    public IReadOnlyList<object> Column(string sql)
    {
        using var db = new NpgsqlConnection(ConnectionString);
        db.Open();
        using var cmd = new NpgsqlCommand(sql, db);
        using var reader = cmd.ExecuteReader();
        var rows = new List<object>();
        while (reader.Read()) rows.Add(reader.GetValue(0));
        return rows;
    }

    /// <summary>The persistence ids that have events in this database's journal, in order.</summary>
    public IReadOnlyList<string> PersistenceIds() =>
        Column("SELECT DISTINCT persistence_id FROM journal ORDER BY 1").Cast<string>().ToList();

    static void Execute(string connection, string sql)
    {
        using var db = new NpgsqlConnection(connection);
        db.Open();
        using var cmd = new NpgsqlCommand(sql, db);
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        try { Execute(server, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)"); }
        catch (NpgsqlException) { /* the server is gone: its folder goes with it */ }
    }
}
