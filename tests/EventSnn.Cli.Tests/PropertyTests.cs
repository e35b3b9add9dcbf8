using CsCheck;

namespace EventSnn.Cli.Tests;

/// <summary>Properties of the output guard (CsCheck).</summary>
public class PropertyTests
{
    [Fact]
    public void SizeGuardStream_passes_writes_up_to_the_bound_and_fails_on_the_first_past_it()
    {
        Gen<(int[] Writes, long Bound, int RewriteAt)> gen = Gen.Select(Gen.Int[0, 5000].Array[0, 40], Gen.Long[0, 60_000], Gen.Int[0, 40]);
        gen.Sample(c =>
        {
            var inner = new MemoryStream();
            using var guard = new SizeGuardStream(inner, c.Bound);
            long total = 0;
            bool failed = false;
            for (int i = 0; i < c.Writes.Length; i++)
            {
                if (i == c.RewriteAt && total > 0)
                {
                    // an in-place rewrite (AEDAT4's table position) does not count twice
                    guard.Position = 0;
                    guard.Write(new byte[Math.Min(8, total)]);
                    guard.Position = total;
                }

                byte[] data = new byte[c.Writes[i]];
                if (total + data.Length > c.Bound)
                {
                    Assert.Throws<OutputTooLargeException>(() => guard.Write(data));
                    failed = true;
                    break;
                }

                guard.Write(data);
                total += data.Length;
            }

            Assert.Equal(total, inner.Length);
            Assert.Equal(total, guard.HighWater);
            Assert.Equal(failed, guard.Tripped);
            if (failed)
            {
                guard.Write(new byte[10]); // dropped silently after the first failure
                guard.Flush();
                Assert.Equal(total, inner.Length);
            }
        }, iter: 500, threads: 1);
    }

    [Fact]
    public void User_messages_never_carry_a_parameter_name()
    {
        Gen.Select(Gen.String, Gen.String.Where(s => s.Length > 0)).Sample((message, name) =>
        {
            string shown = CommandRunner.UserMessage(new ArgumentOutOfRangeException(name, message));
            Assert.DoesNotContain($"(Parameter '{name}')", shown, StringComparison.Ordinal);
        }, iter: 300, threads: 1);
    }
}
