using System.Buffers.Binary;
using System.Text;
using DeepCluster.Core.Experiment;
using Microsoft.Data.Sqlite;

namespace DeepCluster.Actors.Hosting;

/// <summary>What the experiment's journal file holds, as far as a start needs to know.</summary>
public enum JournalContent { Missing, Empty, Events, InUse }

/// <summary>
/// Checks the SQLite journal (<c>experiment.db</c>) before the actor system opens it: a damaged file is named at once
/// (header, size against the header's page count, <c>PRAGMA quick_check</c>) instead of failing the recovery after
/// its timeout with pages of stack traces.
/// </summary>
public static class JournalFile
{
    static readonly byte[] Magic = Encoding.ASCII.GetBytes("SQLite format 3\0");

    /// <summary>Whether the journal holds events; throws <see cref="InvalidDataException"/> naming the file when damaged.</summary>
    public static JournalContent Inspect(ExperimentFolder folder)
    {
        var path = folder.JournalPath;
        if (!File.Exists(path)) return JournalContent.Missing;
        var length = new FileInfo(path).Length;
        if (length == 0) return JournalContent.Empty;
        // A run killed inside a transaction leaves a hot rollback journal: SQLite restores the file from it on open,
        // so only then is the file's size comparable with its header.
        var hotJournal = new FileInfo(path + "-journal") is { Exists: true, Length: > 0 };
        CheckHeader(path, length, checkSize: !hotJournal);
        try
        {
            using var db = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false, DefaultTimeout = 2,
            }.ToString());
            db.Open();
            var check = Scalar(db, "PRAGMA quick_check(1)");
            if (check is not "ok") throw Damaged(path, check ?? "no answer to quick_check");
            if (Scalar(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'journal'") is "0")
                return JournalContent.Empty;
            return Scalar(db, "SELECT count(*) FROM journal") is "0" ? JournalContent.Empty : JournalContent.Events;
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6)   // SQLITE_BUSY, SQLITE_LOCKED: another run has it
        {
            return JournalContent.InUse;
        }
        catch (SqliteException e) { throw Damaged(path, e.Message); }
    }

    static void CheckHeader(string path, long length, bool checkSize)
    {
        var header = new byte[100];
        int read;
        using (var f = File.OpenRead(path)) read = f.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (read < header.Length || !header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw Damaged(path, "not an SQLite database");
        int pageSize = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(16)) is var p && p == 1 ? 65536 : p;
        long pages = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(28));
        // The page count in the header is valid when the "version valid for" number matches the change counter.
        bool countValid = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(92)) == BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(24));
        if (pageSize < 512 || (pageSize & (pageSize - 1)) != 0) throw Damaged(path, $"invalid page size {pageSize}");
        if (checkSize && countValid && pages > 0 && length < pages * pageSize)
            throw Damaged(path, $"truncated: {length} bytes, its header says {pages * pageSize}");
    }

    static string? Scalar(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToString(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    static InvalidDataException Damaged(string path, string why) => new(
        $"{path}: the experiment journal is damaged ({why}). Move it aside and run with --restart to start over, " +
        "or use another --exp folder.");
}
