using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace EventSnn.Testing;

/// <summary>
/// numpy and h5py as readers of the CSV, NPY and HDF5 exports that share no code with the
/// writers (Debian's python3-numpy and python3-h5py, installed by scripts/install-prereqs.sh).
/// When no python3 can import both, a test that needs them fails when CI=true (the install
/// script must have provided them) and is skipped with the reason otherwise.
/// </summary>
internal static class PythonReaders
{
    /// <summary>Reads an export and writes its columns t, x, y, p as little-endian int64 files; prints what it saw as JSON.</summary>
    private const string Script = """
        import json, sys
        import numpy as np
        kind, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
        meta = {}
        names = ("t", "x", "y", "p")
        if kind == "npy":
            a = np.load(path, allow_pickle=False)
            meta["descr"] = [[n, np.dtype(t).str] for n, t in a.dtype.descr]
            meta["shape"] = list(a.shape)
            cols = {k: a[k] for k in names}
        elif kind == "csv":
            with open(path) as f:
                meta["header"] = f.readline().rstrip("\n")
            a = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2).reshape(-1, 4)
            cols = {k: a[:, i] for i, k in enumerate(names)}
        elif kind == "h5":
            import h5py
            with h5py.File(path, "r") as f:
                g = f["events"]
                meta["attrs"] = {k: int(v) for k, v in g.attrs.items()}
                meta["dtypes"] = {k: g[k].dtype.str for k in g.keys()}
                cols = {k: g[k][()] for k in names}
        else:
            raise SystemExit("unknown kind " + kind)
        for k, v in cols.items():
            np.ascontiguousarray(v, dtype="<i8").tofile(out + "/" + k + ".bin")
        print(json.dumps(meta))
        """;

    private static readonly Lazy<string?> Interpreter = new(Find);

    /// <summary>A python3 that imports numpy and h5py; fails when CI=true and skips otherwise when there is none.</summary>
    public static string Require()
    {
        if (Interpreter.Value is { } python)
        {
            return python;
        }

        const string reason = "no python3 here imports numpy and h5py (the independent readers of the exports): run scripts/install-prereqs.sh (Debian python3-numpy, python3-h5py)";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(reason + "; CI=true, where the install script provides them, so this is a failure");
        }

        throw new SkipException(reason);
    }

    /// <summary>Reads <paramref name="path"/> (kind csv, npy or h5) with numpy/h5py: its columns and what numpy saw (dtype, shape, header, attributes).</summary>
    public static (long[] T, long[] X, long[] Y, long[] P, JsonElement Meta) Read(string kind, string path)
    {
        string python = Require();
        string dir = Directory.CreateTempSubdirectory("eventsnn-numpy-").FullName;
        try
        {
            var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in new[] { "-c", Script, kind, path, dir })
            {
                start.ArgumentList.Add(a);
            }

            using Process process = Process.Start(start)!;
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(120_000), "python did not finish in 2 minutes");
            Assert.True(process.ExitCode == 0, $"python reading {kind} {path} failed: {stderr.Result}");
            using JsonDocument meta = JsonDocument.Parse(stdout);
            return (Column(dir, "t"), Column(dir, "x"), Column(dir, "y"), Column(dir, "p"), meta.RootElement.Clone());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static long[] Column(string dir, string name)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(dir, name + ".bin"));
        long[] values = new long[bytes.Length / 8];
        Buffer.BlockCopy(bytes, 0, values, 0, values.Length * 8);
        return values;
    }

    private static string? Find()
    {
        // Debian's interpreter first: a python3 earlier on PATH (pyenv, a venv) may lack the Debian packages
        foreach (string candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                var start = new ProcessStartInfo(candidate) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add("import numpy, h5py");
                using Process? process = Process.Start(start);
                if (process is null)
                {
                    continue;
                }

                process.StandardOutput.ReadToEnd();
                process.StandardError.ReadToEnd();
                if (process.WaitForExit(60_000) && process.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed
            }
        }

        return null;
    }
}
