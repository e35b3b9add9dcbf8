using System.Buffers;
using System.Buffers.Binary;
using EventSnn.IO;

namespace EventSnn.Datasets.Audio;

/// <summary>
/// Streaming reader of RIFF/WAVE files: PCM 8/16/24/32-bit integer and IEEE float 32/64-bit
/// (plain or WAVE_FORMAT_EXTENSIBLE), any number of channels and any sample rate. Samples
/// come out as float in [-1, 1], either interleaved or mixed down to mono, chunk by chunk.
/// Bad input throws <see cref="EventFormatException"/> naming the file and byte offset; a
/// data chunk cut short yields the complete frames before the cut and records a warning.
/// </summary>
public sealed class WavReader : IDisposable
{
    private const int WaveFormatPcm = 1;
    private const int WaveFormatFloat = 3;
    private const int WaveFormatExtensible = 0xFFFE;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly long _dataStart;
    private readonly long _dataEnd;
    private byte[] _raw = [];
    private long _position;
    private readonly List<string> _warnings = [];

    /// <summary>Opens <paramref name="path"/> and parses the header.</summary>
    public WavReader(string path)
        : this(OpenFile(path), path, ownsStream: true)
    {
    }

    /// <summary>Parses the header of a WAVE stream; <paramref name="sourceName"/> names it in errors.</summary>
    public WavReader(Stream stream, string sourceName, bool ownsStream = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _ownsStream = ownsStream;
        SourceName = sourceName;
        try
        {
            (_dataStart, _dataEnd) = ParseHeader();
        }
        catch
        {
            if (ownsStream)
            {
                stream.Dispose();
            }

            throw;
        }

        _position = _dataStart;
    }

    /// <summary>File path or name used in errors.</summary>
    public string SourceName { get; }

    /// <summary>Sampling rate in Hz.</summary>
    public int SampleRate { get; private set; }

    /// <summary>Number of interleaved channels.</summary>
    public int Channels { get; private set; }

    /// <summary>Bits per stored sample.</summary>
    public int BitsPerSample { get; private set; }

    /// <summary>True for IEEE float samples, false for integer PCM.</summary>
    public bool IsFloat { get; private set; }

    /// <summary>Number of complete frames (one sample per channel) in the data chunk.</summary>
    public long FrameCount { get; private set; }

    /// <summary>Duration in microseconds.</summary>
    public long DurationUs => SampleRate == 0 ? 0 : FrameCount * 1_000_000L / SampleRate;

    /// <summary>Non-fatal problems (e.g. a data chunk shorter than declared).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    private int BlockAlign => Channels * (BitsPerSample / 8);

    /// <summary>Reads a whole file mixed down to mono (small files, tools and tests).</summary>
    public static float[] ReadMono(string path, out int sampleRate)
    {
        using var reader = new WavReader(path);
        sampleRate = reader.SampleRate;
        var result = new float[reader.FrameCount];
        int n = 0;
        while (n < result.Length)
        {
            int got = reader.ReadMono(result.AsSpan(n));
            if (got == 0)
            {
                break;
            }

            n += got;
        }

        return n == result.Length ? result : result[..n];
    }

    /// <summary>
    /// Reads up to <paramref name="destination"/>.Length frames mixed down to mono (mean of the
    /// channels). Returns the number of frames written; 0 at the end of the data.
    /// </summary>
    public int ReadMono(Span<float> destination)
    {
        int frames = ReadRaw(destination.Length);
        if (frames == 0)
        {
            return 0;
        }

        int ch = Channels;
        float scale = 1f / ch;
        ReadOnlySpan<byte> raw = _raw.AsSpan(0, frames * BlockAlign);
        int bytes = BitsPerSample / 8;
        for (int f = 0; f < frames; f++)
        {
            float sum = 0;
            int baseOffset = f * BlockAlign;
            for (int c = 0; c < ch; c++)
            {
                sum += Decode(raw.Slice(baseOffset + (c * bytes), bytes));
            }

            destination[f] = ch == 1 ? sum : sum * scale;
        }

        return frames;
    }

    /// <summary>
    /// Reads up to <paramref name="destination"/>.Length / <see cref="Channels"/> frames,
    /// interleaved. Returns the number of frames written; 0 at the end of the data.
    /// </summary>
    public int ReadInterleaved(Span<float> destination)
    {
        int frames = ReadRaw(destination.Length / Channels);
        int bytes = BitsPerSample / 8;
        ReadOnlySpan<byte> raw = _raw.AsSpan(0, frames * BlockAlign);
        int n = frames * Channels;
        for (int i = 0; i < n; i++)
        {
            destination[i] = Decode(raw.Slice(i * bytes, bytes));
        }

        return frames;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_raw.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_raw);
            _raw = [];
        }

        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }

    private static FileStream OpenFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    private float Decode(ReadOnlySpan<byte> s)
    {
        if (IsFloat)
        {
            return BitsPerSample == 32
                ? BinaryPrimitives.ReadSingleLittleEndian(s)
                : (float)BinaryPrimitives.ReadDoubleLittleEndian(s);
        }

        return BitsPerSample switch
        {
            8 => (s[0] - 128) / 128f,
            16 => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768f,
            24 => ((s[0] | (s[1] << 8) | (s[2] << 16)) << 8 >> 8) / 8388608f,
            _ => BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648f,
        };
    }

    private int ReadRaw(int maxFrames)
    {
        int align = BlockAlign;
        long framesLeft = (_dataEnd - _position) / align;
        int frames = (int)Math.Min(maxFrames, framesLeft);
        if (frames <= 0)
        {
            return 0;
        }

        int need = frames * align;
        if (_raw.Length < need)
        {
            if (_raw.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_raw);
            }

            _raw = ArrayPool<byte>.Shared.Rent(need);
        }

        int got = 0;
        while (got < need)
        {
            int r = _stream.Read(_raw, got, need - got);
            if (r == 0)
            {
                break;
            }

            got += r;
        }

        _position += got;
        if (got < need)
        {
            _warnings.Add($"byte {_position}: data chunk ends early ({got} of {need} bytes read)");
            frames = got / align;
            _position = _dataEnd;
        }

        return frames;
    }

    private (long DataStart, long DataEnd) ParseHeader()
    {
        Span<byte> head = stackalloc byte[12];
        if (ReadFully(head) < 12)
        {
            throw new EventFormatException(SourceName, 0, "file is shorter than a RIFF header", "RIFF") { IsTruncation = true };
        }

        bool rf64 = head[..4].SequenceEqual("RF64"u8);
        if (!head[..4].SequenceEqual("RIFF"u8) && !rf64)
        {
            throw new EventFormatException(SourceName, 0, "not a RIFF file (missing 'RIFF' magic)", "RIFF");
        }

        if (!head.Slice(8, 4).SequenceEqual("WAVE"u8))
        {
            throw new EventFormatException(SourceName, 8, "RIFF file is not WAVE", "WAVE");
        }

        long offset = 12;
        bool haveFormat = false;
        long length = _stream.CanSeek ? _stream.Length : long.MaxValue;
        Span<byte> chunk = stackalloc byte[8];
        Span<byte> fmt = stackalloc byte[40];
        while (true)
        {
            if (ReadFully(chunk) < 8)
            {
                throw new EventFormatException(SourceName, offset, haveFormat ? "no 'data' chunk" : "no 'fmt ' chunk", "data") { IsTruncation = true };
            }

            uint size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            long body = offset + 8;
            if (chunk[..4].SequenceEqual("fmt "u8))
            {
                if (size < 16 || size > 1024)
                {
                    throw new EventFormatException(SourceName, offset + 4, $"format chunk size {size} is not 16..1024", "fmt.size");
                }

                int take = (int)Math.Min(size, 40u);
                if (ReadFully(fmt[..take]) < take)
                {
                    throw new EventFormatException(SourceName, body, "file ends inside the format chunk", "fmt") { IsTruncation = true };
                }

                ParseFormat(fmt[..take], body);
                haveFormat = true;
                SkipBytes(size - take + (size & 1), body + take);
            }
            else if (chunk[..4].SequenceEqual("data"u8))
            {
                if (!haveFormat)
                {
                    throw new EventFormatException(SourceName, offset, "'data' chunk before 'fmt ' chunk", "data");
                }

                long end = size == uint.MaxValue && rf64 ? length : body + size;
                if (end > length)
                {
                    _warnings.Add($"byte {offset + 4}: data chunk declares {size} bytes but the file holds {length - body}");
                    end = length;
                }

                FrameCount = (end - body) / BlockAlign;
                return (body, body + (FrameCount * BlockAlign));
            }
            else
            {
                SkipBytes(size + (size & 1), body);
            }

            offset = body + size + (size & 1);
        }
    }

    private void ParseFormat(ReadOnlySpan<byte> f, long at)
    {
        int tag = BinaryPrimitives.ReadUInt16LittleEndian(f);
        Channels = BinaryPrimitives.ReadUInt16LittleEndian(f[2..]);
        SampleRate = BinaryPrimitives.ReadInt32LittleEndian(f[4..]);
        BitsPerSample = BinaryPrimitives.ReadUInt16LittleEndian(f[14..]);
        if (tag == WaveFormatExtensible)
        {
            if (f.Length < 26)
            {
                throw new EventFormatException(SourceName, at, "extensible format chunk too short", "fmt.subFormat");
            }

            tag = BinaryPrimitives.ReadUInt16LittleEndian(f[24..]);
        }

        IsFloat = tag == WaveFormatFloat;
        if (tag != WaveFormatPcm && tag != WaveFormatFloat)
        {
            throw new EventFormatException(SourceName, at, $"unsupported WAVE format tag {tag} (PCM and IEEE float only)", "fmt.formatTag");
        }

        if (Channels is < 1 or > 64)
        {
            throw new EventFormatException(SourceName, at + 2, $"channel count {Channels} is not 1..64", "fmt.channels");
        }

        if (SampleRate is < 100 or > 1_000_000)
        {
            throw new EventFormatException(SourceName, at + 4, $"sample rate {SampleRate} Hz is not 100..1000000", "fmt.sampleRate");
        }

        bool ok = IsFloat ? BitsPerSample is 32 or 64 : BitsPerSample is 8 or 16 or 24 or 32;
        if (!ok)
        {
            throw new EventFormatException(SourceName, at + 14, $"{BitsPerSample} bits per sample is not supported", "fmt.bitsPerSample");
        }
    }

    private int ReadFully(Span<byte> buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int r = _stream.Read(buffer[got..]);
            if (r == 0)
            {
                break;
            }

            got += r;
        }

        return got;
    }

    private void SkipBytes(long count, long at)
    {
        if (count <= 0)
        {
            return;
        }

        if (_stream.CanSeek)
        {
            if (_stream.Position + count > _stream.Length)
            {
                throw new EventFormatException(SourceName, at, "chunk runs past the end of the file", "chunk.size") { IsTruncation = true };
            }

            _stream.Seek(count, SeekOrigin.Current);
            return;
        }

        Span<byte> scratch = stackalloc byte[512];
        while (count > 0)
        {
            int r = _stream.Read(scratch[..(int)Math.Min(count, scratch.Length)]);
            if (r == 0)
            {
                throw new EventFormatException(SourceName, at, "chunk runs past the end of the stream", "chunk.size") { IsTruncation = true };
            }

            count -= r;
        }
    }
}
