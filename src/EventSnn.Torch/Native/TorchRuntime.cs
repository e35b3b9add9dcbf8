using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace EventSnn.Torch.Native;

/// <summary>
/// Makes TorchSharp's native shim load on systems whose libstdc++ is older than the one
/// it was built with, without touching the system.
/// </summary>
/// <remarks>
/// TorchSharp-cpu 0.107.0's libLibTorchSharp.so requires GLIBCXX_3.4.32 (GCC 13) for one
/// symbol, <c>std::ios_base_library_init()</c>. GCC 13's &lt;iostream&gt; only declares that
/// symbol (<c>.globl</c>) to pin the newer libstdc++; no relocation refers to it, so nothing
/// ever calls it. Debian 12 ships GCC 12's libstdc++ (up to GLIBCXX_3.4.30) and the loader
/// refuses the shim. When — and only when — loading the original fails for missing GLIBCXX
/// versions, this class copies the shim into a per-user cache, marks exactly those version
/// requirements weak (VER_FLG_WEAK in .gnu.version_r; the loader then accepts their absence),
/// loads libtorch's libraries from their original folder, loads the patched shim and points
/// TorchSharp's P/Invoke resolution for "LibTorchSharp" at it. On a newer system the
/// original loads and nothing is changed.
/// </remarks>
public static partial class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static bool _initialised;

    /// <summary>What <see cref="EnsureLoaded"/> did: "native", "patched: ..." or "not linux".</summary>
    public static string Status { get; private set; } = "not initialised";

    /// <summary>Path of the patched shim when one was needed, else null.</summary>
    public static string? PatchedLibraryPath { get; private set; }

    /// <summary>
    /// Prepares the native libraries. Call before the first TorchSharp call; idempotent and
    /// thread-safe. Throws <see cref="DllNotFoundException"/> with the loader's message when
    /// the libraries cannot be made to load.
    /// </summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_initialised)
            {
                return;
            }

            if (!OperatingSystem.IsLinux())
            {
                Status = "not linux: TorchSharp loads its own natives";
                _initialised = true;
                return;
            }

            Assembly torchAssembly = typeof(TorchSharp.torch).Assembly;
            string? original = FindNative("libLibTorchSharp.so", torchAssembly);
            if (original is null)
            {
                Status = "libLibTorchSharp.so not found next to the application; leaving loading to TorchSharp";
                _initialised = true;
                return;
            }

            string? failure = null;
            try
            {
                NativeLibrary.Load(original);
                Status = "native: " + original;
                _initialised = true;
                return;
            }
            catch (DllNotFoundException ex)
            {
                failure = ex.Message;
            }

            var missing = MissingVersions(failure);
            if (missing.Count == 0)
            {
                throw new DllNotFoundException("TorchSharp's native library does not load and the cause is not a missing GLIBCXX version: " + failure);
            }

            string patched = WritePatchedCopy(original, missing);
            string dir = Path.GetDirectoryName(original)!;
            foreach (string dep in (string[])["libc10.so", "libtorch_cpu.so", "libtorch.so"])
            {
                string? depPath = FindNative(dep, torchAssembly, dir);
                if (depPath is not null)
                {
                    NativeLibrary.Load(depPath);
                }
            }

            IntPtr handle = NativeLibrary.Load(patched);
            NativeLibrary.SetDllImportResolver(torchAssembly, (name, _, _) =>
                name is "LibTorchSharp" or "libLibTorchSharp" or "libLibTorchSharp.so" ? handle : IntPtr.Zero);
            PatchedLibraryPath = patched;
            Status = $"patched: {string.Join(", ", missing)} marked weak in {patched}";
            _initialised = true;
        }
    }

    internal static List<string> MissingVersions(string message)
    {
        var result = new List<string>();
        foreach (Match m in MissingVersionRegex().Matches(message))
        {
            string v = m.Groups[1].Value;
            if (!result.Contains(v))
            {
                result.Add(v);
            }
        }

        return result;
    }

    private static string WritePatchedCopy(string original, List<string> missing)
    {
        byte[] bytes = File.ReadAllBytes(original);
        string hash = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        int changed = ElfVersionPatcher.MakeWeak(bytes, "libstdc++.so.6", missing);
        if (changed == 0)
        {
            throw new DllNotFoundException($"{original}: the missing versions {string.Join(", ", missing)} are not libstdc++ requirements; cannot patch");
        }

        string root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        if (string.IsNullOrEmpty(root) || !TryCreate(Path.Combine(root, "eventsnn")))
        {
            root = Path.GetTempPath();
        }

        string dir = Path.Combine(root, "eventsnn", "torchsharp-compat", hash + "-" + string.Join("_", missing));
        Directory.CreateDirectory(dir);
        string target = Path.Combine(dir, "libLibTorchSharp.so");
        if (File.Exists(target) && new FileInfo(target).Length == bytes.Length)
        {
            return target;
        }

        string tmp = target + "." + Environment.ProcessId + ".tmp";
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, target, overwrite: true);
        return target;
    }

    private static bool TryCreate(string dir)
    {
        try
        {
            Directory.CreateDirectory(dir);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string? FindNative(string fileName, Assembly torchAssembly, string? preferredDir = null)
    {
        var dirs = new List<string>();
        if (preferredDir is not null)
        {
            dirs.Add(preferredDir);
        }

        foreach (string baseDir in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(torchAssembly.Location) ?? string.Empty })
        {
            if (baseDir.Length == 0)
            {
                continue;
            }

            dirs.Add(Path.Combine(baseDir, "runtimes", "linux-x64", "native"));
            dirs.Add(baseDir);
        }

        // The NuGet global packages folder, as restored (libtorch lives in its own package).
        string nuget = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } np
            ? np
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string version = torchAssembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : string.Empty;
        dirs.Add(Path.Combine(nuget, "torchsharp", version, "runtimes", "linux-x64", "native"));
        if (Directory.Exists(Path.Combine(nuget, "libtorch-cpu-linux-x64")))
        {
            foreach (string d in Directory.EnumerateDirectories(Path.Combine(nuget, "libtorch-cpu-linux-x64")))
            {
                dirs.Add(Path.Combine(d, "runtimes", "linux-x64", "native"));
            }
        }

        foreach (string d in dirs)
        {
            string p = Path.Combine(d, fileName);
            if (File.Exists(p))
            {
                return p;
            }
        }

        return null;
    }

    [GeneratedRegex(@"version `(GLIBCXX_[0-9.]+|CXXABI_[0-9.]+)' not found")]
    private static partial Regex MissingVersionRegex();
}
