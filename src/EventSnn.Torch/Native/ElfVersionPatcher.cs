using System.Buffers.Binary;
using System.Text;

namespace EventSnn.Torch.Native;

/// <summary>
/// Edits the symbol-version requirements (.gnu.version_r) of a 64-bit little-endian ELF
/// shared object in memory: marks chosen required versions as weak (VER_FLG_WEAK), so the
/// dynamic loader no longer refuses the object when the providing library lacks that
/// version. Used only for versions whose symbols nothing relocates against (see
/// <see cref="TorchRuntime"/>).
/// </summary>
internal static class ElfVersionPatcher
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>A required version: the library that must provide it, its name and flags.</summary>
    internal readonly record struct VersionNeed(string File, string Version, ushort Flags, int FlagsOffset);

    /// <summary>Lists the version requirements of an ELF image.</summary>
    public static List<VersionNeed> ReadNeeds(ReadOnlySpan<byte> elf)
    {
        var result = new List<VersionNeed>();
        if (elf.Length < 64 || elf[0] != 0x7F || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }

        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        }

        long shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(elf[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3C..]);
        for (int i = 0; i < shnum; i++)
        {
            ReadOnlySpan<byte> sh = Slice(elf, shoff + ((long)i * shentsize), 64);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]);
            if (type != ShtGnuVerneed)
            {
                continue;
            }

            long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(sh[0x18..]);
            int link = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh[0x28..]);
            ReadOnlySpan<byte> strSh = Slice(elf, shoff + ((long)link * shentsize), 64);
            long strtab = (long)BinaryPrimitives.ReadUInt64LittleEndian(strSh[0x18..]);
            long p = offset;
            for (int guard = 0; guard < 4096; guard++)
            {
                ReadOnlySpan<byte> vn = Slice(elf, p, 16);
                int cnt = BinaryPrimitives.ReadUInt16LittleEndian(vn[2..]);
                uint file = BinaryPrimitives.ReadUInt32LittleEndian(vn[4..]);
                uint aux = BinaryPrimitives.ReadUInt32LittleEndian(vn[8..]);
                uint next = BinaryPrimitives.ReadUInt32LittleEndian(vn[12..]);
                string fileName = CString(elf, strtab + file);
                long a = p + aux;
                for (int j = 0; j < cnt; j++)
                {
                    ReadOnlySpan<byte> va = Slice(elf, a, 16);
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(va[4..]);
                    uint name = BinaryPrimitives.ReadUInt32LittleEndian(va[8..]);
                    uint anext = BinaryPrimitives.ReadUInt32LittleEndian(va[12..]);
                    result.Add(new VersionNeed(fileName, CString(elf, strtab + name), flags, checked((int)(a + 4))));
                    if (anext == 0)
                    {
                        break;
                    }

                    a += anext;
                }

                if (next == 0)
                {
                    break;
                }

                p += next;
            }
        }

        return result;
    }

    /// <summary>Marks <paramref name="versions"/> required from <paramref name="file"/> as weak. Returns how many entries changed.</summary>
    public static int MakeWeak(Span<byte> elf, string file, IReadOnlyCollection<string> versions)
    {
        int changed = 0;
        foreach (VersionNeed need in ReadNeeds(elf))
        {
            if (need.File == file && versions.Contains(need.Version) && (need.Flags & VerFlgWeak) == 0)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(elf[need.FlagsOffset..], (ushort)(need.Flags | VerFlgWeak));
                changed++;
            }
        }

        return changed;
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> elf, long offset, int length)
    {
        if (offset < 0 || offset + length > elf.Length)
        {
            throw new InvalidDataException($"ELF structure at {offset} runs past the end of the file");
        }

        return elf.Slice((int)offset, length);
    }

    private static string CString(ReadOnlySpan<byte> elf, long offset)
    {
        ReadOnlySpan<byte> rest = Slice(elf, offset, 1);
        rest = elf[(int)offset..];
        int end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            throw new InvalidDataException("unterminated ELF string");
        }

        return Encoding.ASCII.GetString(rest[..end]);
    }
}
