namespace EventSnn.Snn.Tests;

/// <summary>Temporary files of checkpoint saves whose process died are cleaned up; live ones are not.</summary>
public class CheckpointTemporariesTests
{
    [Fact]
    public void Stale_temporaries_of_dead_processes_are_removed_and_others_kept()
    {
        string dir = Path.Combine(Path.GetTempPath(), "eventsnn-tmp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            // a pid above the kernel's pid_max is never alive
            string dead = Path.Combine(dir, ".stream.ckpt.4194305.0badc0de.tmp");
            string mine = Path.Combine(dir, $".stream.ckpt.{Environment.ProcessId}.12345678.tmp");
            string user = Path.Combine(dir, ".notes.tmp");
            string checkpoint = Path.Combine(dir, "stream.ckpt");
            foreach (string f in new[] { dead, mine, user, checkpoint })
            {
                File.WriteAllText(f, "x");
            }

            Assert.Equal(1, Checkpoint.RemoveStaleTemporaries(dir));
            Assert.False(File.Exists(dead));
            Assert.True(File.Exists(mine));
            Assert.True(File.Exists(user));
            Assert.True(File.Exists(checkpoint));
            Assert.Equal(0, Checkpoint.RemoveStaleTemporaries(Path.Combine(dir, "missing")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
