using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EventSnn.Datasets.Audio;

/// <summary>
/// A cochlea-style bank of band-pass filters: each channel is a cascade of identical
/// constant-peak-gain band-pass biquads (RBJ cookbook) centred on an ERB-spaced frequency,
/// with a bandwidth of one equivalent rectangular bandwidth (Glasberg and Moore) so that
/// the cascade behaves like a gammatone-like auditory filter (unit gain at the centre).
/// Channels are ordered from low to high frequency (channel 0 = lowest, as in SHD).
/// State is kept in struct-of-arrays form and carried from sample to sample, so the bank
/// runs on chunks of PCM as they arrive; the per-sample update is vectorised across channels.
/// </summary>
public sealed class CochleaFilterBank
{
    private readonly int _stages;
    private readonly int _padded;
    private readonly float[] _b0;
    private readonly float[] _a1;
    private readonly float[] _a2;
    private readonly float[] _z1;
    private readonly float[] _z2;

    /// <summary>Designs the bank for <paramref name="sampleRate"/> Hz.</summary>
    /// <param name="sampleRate">Input sampling rate in Hz.</param>
    /// <param name="channels">Number of channels.</param>
    /// <param name="minFrequencyHz">Centre frequency of channel 0.</param>
    /// <param name="maxFrequencyHz">Centre frequency of the last channel (clipped to 0.45 x the sampling rate).</param>
    /// <param name="stages">Biquads per channel (2 = 4th-order band-pass).</param>
    /// <param name="bandwidthScale">Channel bandwidth in ERBs.</param>
    public CochleaFilterBank(int sampleRate, int channels = 700, double minFrequencyHz = 50, double maxFrequencyHz = 8000, int stages = 2, double bandwidthScale = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1000);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stages, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(minFrequencyHz, 0);
        double top = Math.Min(maxFrequencyHz, 0.45 * sampleRate);
        if (top <= minFrequencyHz)
        {
            throw new ArgumentOutOfRangeException(nameof(maxFrequencyHz), $"maximum frequency {top} Hz (after clipping to 0.45 x {sampleRate} Hz) must exceed the minimum {minFrequencyHz} Hz");
        }

        SampleRate = sampleRate;
        Channels = channels;
        _stages = stages;
        int lanes = Vector<float>.Count;
        _padded = (channels + lanes - 1) / lanes * lanes;
        CentreFrequencies = ErbSpace(minFrequencyHz, top, channels);
        _b0 = new float[_padded * stages];
        _a1 = new float[_padded * stages];
        _a2 = new float[_padded * stages];
        _z1 = new float[_padded * stages];
        _z2 = new float[_padded * stages];

        // A cascade of n identical 2nd-order sections narrows the -3 dB band by sqrt(2^(1/n) - 1);
        // widen each section so that the cascade has the requested bandwidth.
        double narrowing = Math.Sqrt(Math.Pow(2, 1.0 / stages) - 1);
        for (int c = 0; c < channels; c++)
        {
            double fc = CentreFrequencies[c];
            double bw = bandwidthScale * ErbHz(fc) / narrowing;
            double q = fc / bw;
            double w0 = 2 * Math.PI * fc / sampleRate;
            double alpha = Math.Sin(w0) / (2 * q);
            double a0 = 1 + alpha;
            for (int s = 0; s < stages; s++)
            {
                int i = (s * _padded) + c;
                _b0[i] = (float)(alpha / a0);
                _a1[i] = (float)(-2 * Math.Cos(w0) / a0);
                _a2[i] = (float)((1 - alpha) / a0);
            }
        }
    }

    /// <summary>Sampling rate in Hz.</summary>
    public int SampleRate { get; }

    /// <summary>Number of channels.</summary>
    public int Channels { get; }

    /// <summary>Channel count rounded up to whole SIMD vectors (length of the output span).</summary>
    public int PaddedChannels => _padded;

    /// <summary>Centre frequency of each channel in Hz, ascending.</summary>
    public double[] CentreFrequencies { get; }

    /// <summary>Equivalent rectangular bandwidth at <paramref name="frequencyHz"/> (Glasberg and Moore 1990).</summary>
    public static double ErbHz(double frequencyHz) => 24.7 * ((4.37e-3 * frequencyHz) + 1);

    /// <summary>ERB-rate (number of ERBs below <paramref name="frequencyHz"/>).</summary>
    public static double ErbRate(double frequencyHz) => 21.4 * Math.Log10((4.37e-3 * frequencyHz) + 1);

    /// <summary><paramref name="count"/> frequencies equally spaced on the ERB-rate scale from <paramref name="low"/> to <paramref name="high"/>.</summary>
    public static double[] ErbSpace(double low, double high, int count)
    {
        var f = new double[count];
        double e0 = ErbRate(low), e1 = ErbRate(high);
        for (int i = 0; i < count; i++)
        {
            double e = count == 1 ? e0 : e0 + ((e1 - e0) * i / (count - 1));
            f[i] = (Math.Pow(10, e / 21.4) - 1) / 4.37e-3;
        }

        return f;
    }

    /// <summary>Clears the filter state (silence before the next sample).</summary>
    public void Reset()
    {
        Array.Clear(_z1);
        Array.Clear(_z2);
    }

    /// <summary>
    /// Filters one input sample through every channel. <paramref name="output"/> must hold
    /// <see cref="PaddedChannels"/> floats; channel c's output lands at index c.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Step(float sample, Span<float> output)
    {
        if (output.Length < _padded)
        {
            throw new ArgumentException($"output needs {_padded} floats", nameof(output));
        }

        Span<Vector<float>> y = MemoryMarshal.Cast<float, Vector<float>>(output[.._padded]);
        int vectors = y.Length;
        var x = new Vector<float>(sample);
        for (int s = 0; s < _stages; s++)
        {
            int off = s * _padded;
            ReadOnlySpan<Vector<float>> b0 = MemoryMarshal.Cast<float, Vector<float>>(_b0.AsSpan(off, _padded));
            ReadOnlySpan<Vector<float>> a1 = MemoryMarshal.Cast<float, Vector<float>>(_a1.AsSpan(off, _padded));
            ReadOnlySpan<Vector<float>> a2 = MemoryMarshal.Cast<float, Vector<float>>(_a2.AsSpan(off, _padded));
            Span<Vector<float>> z1 = MemoryMarshal.Cast<float, Vector<float>>(_z1.AsSpan(off, _padded));
            Span<Vector<float>> z2 = MemoryMarshal.Cast<float, Vector<float>>(_z2.AsSpan(off, _padded));
            for (int v = 0; v < vectors; v++)
            {
                // transposed direct form II of b = (b0, 0, -b0), a = (1, a1, a2)
                Vector<float> xin = s == 0 ? x : y[v];
                Vector<float> bx = b0[v] * xin;
                Vector<float> o = bx + z1[v];
                z1[v] = z2[v] - (a1[v] * o);
                z2[v] = -bx - (a2[v] * o);
                y[v] = o;
            }
        }
    }
}
