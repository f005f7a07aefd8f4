using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Hosting;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;
using Microsoft.Data.Sqlite;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// Each experiment journals under its own persistence id, <c>experiment-ID</c> with ID kept in the folder
/// (<c>experiment.id</c>, moved with it); a folder made before ids keeps the fixed id its SQLite journal was written with.
/// </summary>
[Collection("finished experiment")]
public class ExperimentIdentityTests(FinishedExperiment finished)
{
    static readonly JournalSettings Postgres = new(JournalProvider.PostgreSql, "Host=db;Database=dc");

    [Fact]
    public void ANewExperimentGetsAnIdThatMovesWithItsFolder()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.File("exp"));
        folder.CreateLayout();
        Assert.Null(ExperimentIdentity.Existing(folder, JournalSettings.Default));
        var target = ExperimentIdentity.Resolve(folder, JournalSettings.Default);
        var id = folder.ReadId()!;
        Assert.Matches("^[0-9a-f]{16}$", id);
        Assert.Equal($"experiment-{id}", target.PersistenceId);
        Assert.Equal(folder.JournalPath, target.Name);
        Assert.Equal(target.PersistenceId, ExperimentIdentity.Resolve(folder, Postgres).PersistenceId);

        Directory.Move(folder.Root, dir.File("moved"));
        var moved = new ExperimentFolder(dir.File("moved"));
        Assert.Equal(target.PersistenceId, ExperimentIdentity.Resolve(moved, JournalSettings.Default).PersistenceId);
        Assert.NotEqual(id, ExperimentIdentity.Resolve(new ExperimentFolder(dir.File("other")), Postgres).PersistenceId["experiment-".Length..]);
    }

    [Fact]
    public void AMalformedIdNamesItsFile()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.File("exp"));
        folder.CreateLayout();
        File.WriteAllText(folder.IdPath, "../../etc\n");
        var e = Assert.Throws<InvalidDataException>(() => ExperimentIdentity.Resolve(folder, JournalSettings.Default));
        Assert.StartsWith(folder.IdPath + ": not an experiment id", e.Message);
    }

    [Fact]
    public void AnOlderSqliteFolderKeepsTheFixedIdItWasWrittenWith()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.File("exp"));
        folder.CreateLayout();
        using (var db = new SqliteConnection($"Data Source={folder.JournalPath};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "CREATE TABLE journal (persistence_id TEXT); INSERT INTO journal VALUES ('deepcluster-experiment');";
            cmd.ExecuteNonQuery();
        }
        Assert.Equal(JournalTarget.LegacyPersistenceId, ExperimentIdentity.Resolve(folder, JournalSettings.Default).PersistenceId);
        Assert.False(File.Exists(folder.IdPath));
        // On a shared PostgreSQL journal the fixed id would collide: such a folder is a new experiment there.
        Assert.StartsWith("experiment-", ExperimentIdentity.Resolve(folder, Postgres).PersistenceId);
    }

    [Fact]
    public void AFolderWrittenBeforeIdsResumesFromItsJournal()
    {
        using var dir = new TempDir();
        var exp = finished.CopyTo(dir.File("exp"));
        var folder = new ExperimentFolder(exp);
        // What a run before ids left: every row under the one fixed persistence id, and no experiment.id.
        using (var db = new SqliteConnection($"Data Source={folder.JournalPath};Pooling=False"))
        {
            db.Open();
            var tables = new List<string>();
            using (var list = db.CreateCommand())
            {
                list.CommandText = "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c " +
                                   "WHERE m.type = 'table' AND c.name = 'persistence_id'";
                using var r = list.ExecuteReader();
                while (r.Read()) tables.Add(r.GetString(0));
            }
            Assert.Contains("journal", tables);
            foreach (var t in tables)
            {
                using var update = db.CreateCommand();
                update.CommandText = $"UPDATE \"{t}\" SET persistence_id = '{JournalTarget.LegacyPersistenceId}'";
                update.ExecuteNonQuery();
            }
        }
        File.Delete(folder.IdPath);

        var (code, output) = FinishedExperiment.Run(FinishedExperiment.Args(exp));
        Assert.True(code == 0, output);
        Assert.Contains($"resuming {exp} at epoch 1", output);
        Assert.Contains("done: 1 epoch(s)", output);
        Assert.False(File.Exists(folder.IdPath));
    }
}
