using Npgsql;

namespace DeepCluster.Actors.Hosting;

/// <summary>
/// Checks a PostgreSQL journal before the actor system opens it: the server answers and takes the credentials (within
/// a few seconds, one line naming the server when it does not, instead of the journal's timeouts and stack traces),
/// and whether it holds events of one experiment.
/// </summary>
public static class PostgresJournal
{
    /// <summary>The longest the check waits for the server (Npgsql's <c>Timeout</c>, when the connection string asks more).</summary>
    public const int ConnectSeconds = 5;

    /// <summary>
    /// Whether the journal holds events of <paramref name="persistenceId"/> (null: a new experiment, only the server is
    /// checked). <see cref="InvalidDataException"/> naming the server when it cannot be used.
    /// </summary>
    public static JournalContent Inspect(JournalSettings journal, string? persistenceId)
    {
        var b = new NpgsqlConnectionStringBuilder(journal.ConnectionString) { Pooling = false };
        b.Timeout = b.Timeout is > 0 and < ConnectSeconds ? b.Timeout : ConnectSeconds;
        b.CommandTimeout = b.CommandTimeout is > 0 and < 3 * ConnectSeconds ? b.CommandTimeout : 3 * ConnectSeconds;
        try
        {
            using var db = new NpgsqlConnection(b.ConnectionString);
            db.Open();
            if (persistenceId is null) return JournalContent.Missing;
            // Akka.Persistence.Sql's default tables (auto-initialised on the first write): journal(persistence_id, …).
            if (Scalar(db, "SELECT to_regclass('journal') IS NOT NULL", null) is not true) return JournalContent.Missing;
            return Scalar(db, "SELECT EXISTS (SELECT 1 FROM journal WHERE persistence_id = @id)", persistenceId) is true
                ? JournalContent.Events : JournalContent.Empty;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException
                                      or InvalidOperationException)
        {
            throw new InvalidDataException($"PostgreSQL journal {journal.Server}: {Reason(e)}; check {JournalSettings.ConnectionStringKey} " +
                                           "or --journal.");
        }
    }

    static object? Scalar(NpgsqlConnection db, string sql, string? id)
    {
        using var cmd = new NpgsqlCommand(sql, db);
        if (id is not null) cmd.Parameters.AddWithValue("id", id);
        return cmd.ExecuteScalar();
    }

    /// <summary>The server's own message (wrong password, no such database), or the innermost cause (refused, timed out).</summary>
    static string Reason(Exception e)
    {
        if (e is PostgresException pg) return $"{pg.MessageText} (SQLSTATE {pg.SqlState})";
        var inner = e;
        while (inner.InnerException is { } next) inner = next;
        var what = inner is TimeoutException ? $"no answer within {ConnectSeconds} s" : inner.Message.TrimEnd('.');
        return $"cannot connect ({what})";
    }
}
