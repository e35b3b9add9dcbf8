using System.Diagnostics;
using SharpFuzz;

namespace EventSnn.Fuzz;

/// <summary>
/// <c>EventSnn.Fuzz &lt;target&gt;</c>: the target under afl-fuzz (SharpFuzz fork server, the target
/// run in a child process that survives crashes and timeouts). <c>replay &lt;target&gt; &lt;file|dir&gt;...</c>
/// runs files through a target without AFL; <c>seeds &lt;fixtures&gt; &lt;corpus&gt;</c> writes the
/// starting corpus; <c>list</c> prints the targets.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Error.WriteLine("usage: EventSnn.Fuzz <target> | replay <target> <file|dir>... | seeds <fixtures> <corpus> | list");
            Console.Error.WriteLine("targets: " + string.Join(", ", FuzzTargets.Names));
            return 2;
        }

        switch (args[0])
        {
            case "list":
                foreach (string name in FuzzTargets.Names)
                {
                    Console.WriteLine(name);
                }

                return 0;
            case "seeds" when args.Length == 3:
                Seeds.Write(args[1], args[2]);
                return 0;
            case "replay" when args.Length >= 3:
                return Replay(args[1], args.Skip(2));
        }

        string target = args[0];
        if (!FuzzTargets.Names.Contains(target))
        {
            Console.Error.WriteLine($"unknown target '{target}'; targets: {string.Join(", ", FuzzTargets.Names)}");
            return 2;
        }

        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            FuzzTargets.Run(target, ms.ToArray());
        });
        return 0;
    }

    private static int Replay(string target, IEnumerable<string> paths)
    {
        int failures = 0;
        foreach (string file in paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories) : [p]))
        {
            var clock = Stopwatch.StartNew();
            try
            {
                FuzzTargets.Run(target, File.ReadAllBytes(file));
                Console.WriteLine($"ok   {clock.Elapsed.TotalMilliseconds,8:F1} ms  {file}");
            }
            catch (Exception ex)
            {
                failures++;
                Console.WriteLine($"FAIL {clock.Elapsed.TotalMilliseconds,8:F1} ms  {file}: {ex}");
            }
        }

        return failures == 0 ? 0 : 1;
    }
}
