using EventSnn.Torch.Native;
using TorchSharp;

namespace EventSnn.Torch.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void Libtorch_loads_and_computes()
    {
        TorchRuntime.EnsureLoaded();
        using var a = torch.tensor(new float[] { 1, 2, 3 });
        using var b = a * 2;
        using var s = b.sum();
        Assert.Equal(12f, s.item<float>());
        Assert.False(string.IsNullOrEmpty(TorchRuntime.Status));
    }

    [Fact]
    public void EnsureLoaded_is_idempotent()
    {
        TorchRuntime.EnsureLoaded();
        string status = TorchRuntime.Status;
        TorchRuntime.EnsureLoaded();
        Assert.Equal(status, TorchRuntime.Status);
    }

    [Fact]
    public void Missing_versions_are_parsed_from_the_loader_message()
    {
        const string message = "/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by /x/libLibTorchSharp.so)";
        Assert.Equal(["GLIBCXX_3.4.32"], TorchRuntime.MissingVersions(message));
        Assert.Empty(TorchRuntime.MissingVersions("libfoo.so: cannot open shared object file"));
    }

    [Fact]
    public void Patcher_marks_only_the_named_libstdcxx_version_weak()
    {
        string shim = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(shim), "TorchSharp's shim should be copied to the test output: " + shim);
        byte[] bytes = File.ReadAllBytes(shim);
        var before = ElfVersionPatcher.ReadNeeds(bytes);
        Assert.Contains(before, n => n.File == "libstdc++.so.6" && n.Version == "GLIBCXX_3.4.32" && (n.Flags & 2) == 0);

        int changed = ElfVersionPatcher.MakeWeak(bytes, "libstdc++.so.6", ["GLIBCXX_3.4.32"]);

        Assert.Equal(1, changed);
        var after = ElfVersionPatcher.ReadNeeds(bytes);
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++)
        {
            bool target = before[i].Version == "GLIBCXX_3.4.32";
            Assert.Equal(target ? (ushort)(before[i].Flags | 2) : before[i].Flags, after[i].Flags);
        }
    }

    [Fact]
    public void Patcher_rejects_non_elf_input()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.ReadNeeds(new byte[100]));
    }
}
