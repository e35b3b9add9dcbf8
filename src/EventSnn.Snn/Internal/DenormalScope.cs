using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EventSnn.Snn.Internal;

/// <summary>
/// Sets the SSE control register's flush-to-zero (bit 15) and denormals-are-zero (bit 6) bits for
/// the current thread until disposed, then restores the previous value (see
/// <see cref="FloatingPoint"/>). .NET has no intrinsic for STMXCSR/LDMXCSR, so two 16-byte x64
/// stubs are written once into a page that is then made executable (mmap/mprotect, or
/// VirtualAlloc/VirtualProtect on Windows). On other architectures, or when the page cannot be
/// made executable, the scope does nothing.
/// </summary>
internal readonly unsafe struct DenormalScope : IDisposable
{
    private const uint FlushBits = (1u << 15) | (1u << 6);

    private static readonly delegate* unmanaged[SuppressGCTransition]<uint> s_get;
    private static readonly delegate* unmanaged[SuppressGCTransition]<uint, void> s_set;

    private readonly uint _saved;
    private readonly bool _restore;

    static DenormalScope()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return;
        }

        try
        {
            // uint get(): sub rsp,8; stmxcsr [rsp]; mov eax,[rsp]; add rsp,8; ret
            byte[] get = [0x48, 0x83, 0xEC, 0x08, 0x0F, 0xAE, 0x1C, 0x24, 0x8B, 0x04, 0x24, 0x48, 0x83, 0xC4, 0x08, 0xC3];

            // void set(uint): sub rsp,8; mov [rsp],edi (ecx on Windows); ldmxcsr [rsp]; add rsp,8; ret
            byte arg = OperatingSystem.IsWindows() ? (byte)0x0C : (byte)0x3C;
            byte[] set = [0x48, 0x83, 0xEC, 0x08, 0x89, arg, 0x24, 0x0F, 0xAE, 0x14, 0x24, 0x48, 0x83, 0xC4, 0x08, 0xC3];
            byte* page = ExecutablePage.Create(get, set, 32);
            if (page == null)
            {
                return;
            }

            s_get = (delegate* unmanaged[SuppressGCTransition]<uint>)page;
            s_set = (delegate* unmanaged[SuppressGCTransition]<uint, void>)(page + 32);
            uint before = s_get();
            s_set(before); // round trip: the stubs work
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or MarshalDirectiveException)
        {
            s_get = null;
            s_set = null;
        }
    }

    private DenormalScope(uint saved)
    {
        _saved = saved;
        _restore = true;
    }

    /// <summary>True when the register stubs are in place.</summary>
    public static bool Supported => s_get != null;

    /// <summary>Sets flush-to-zero for this thread (when <see cref="FloatingPoint.FlushDenormals"/>); dispose restores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DenormalScope Enter()
    {
        if (s_get == null || !FloatingPoint.FlushDenormals)
        {
            return default;
        }

        uint csr = s_get();
        if ((csr & FlushBits) == FlushBits)
        {
            return default; // already set (a nested scope, or a worker thread set for good)
        }

        s_set(csr | FlushBits);
        return new DenormalScope(csr);
    }

    /// <summary>Sets flush-to-zero for the rest of this thread's life (the engine's own worker threads).</summary>
    public static void EnterForThread()
    {
        if (s_get != null && FloatingPoint.FlushDenormals)
        {
            s_set(s_get() | FlushBits);
        }
    }

    /// <summary>The current thread's mode: true when subnormals are flushed (tests).</summary>
    internal static bool IsFlushing => s_get != null && (s_get() & FlushBits) == FlushBits;

    public void Dispose()
    {
        if (_restore)
        {
            s_set(_saved);
        }
    }

    /// <summary>One page holding the stubs, writable while they are copied in, then read + execute only.</summary>
    private static class ExecutablePage
    {
        private const int PageSize = 4096;

        public static byte* Create(byte[] first, byte[] second, int secondOffset)
        {
            byte* p = Allocate();
            if (p == null)
            {
                return null;
            }

            new ReadOnlySpan<byte>(first).CopyTo(new Span<byte>(p, PageSize));
            new ReadOnlySpan<byte>(second).CopyTo(new Span<byte>(p + secondOffset, PageSize - secondOffset));
            return Protect(p) ? p : null;
        }

        private static byte* Allocate()
        {
            if (OperatingSystem.IsWindows())
            {
                return (byte*)VirtualAlloc(null, PageSize, 0x3000 /* MEM_COMMIT | MEM_RESERVE */, 0x04 /* PAGE_READWRITE */);
            }

            int anonymous = OperatingSystem.IsLinux() ? 0x20 : 0x1000; // MAP_ANONYMOUS (Linux / BSD, macOS)
            void* p = Mmap(null, PageSize, 0x1 | 0x2 /* PROT_READ | PROT_WRITE */, 0x02 /* MAP_PRIVATE */ | anonymous, -1, 0);
            return p == (void*)-1 ? null : (byte*)p;
        }

        private static bool Protect(byte* p)
        {
            if (OperatingSystem.IsWindows())
            {
                return VirtualProtect(p, PageSize, 0x20 /* PAGE_EXECUTE_READ */, out _) != 0;
            }

            return Mprotect(p, PageSize, 0x1 | 0x4 /* PROT_READ | PROT_EXEC */) == 0;
        }

        [DllImport("libc", EntryPoint = "mmap")]
        private static extern void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

        [DllImport("libc", EntryPoint = "mprotect")]
        private static extern int Mprotect(void* addr, nuint length, int prot);

        [DllImport("kernel32", EntryPoint = "VirtualAlloc")]
        private static extern void* VirtualAlloc(void* address, nuint size, uint allocationType, uint protect);

        [DllImport("kernel32", EntryPoint = "VirtualProtect")]
        private static extern int VirtualProtect(void* address, nuint size, uint newProtect, out uint oldProtect);
    }
}
