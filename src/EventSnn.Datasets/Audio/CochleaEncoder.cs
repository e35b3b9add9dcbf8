using System.Numerics;
using System.Runtime.InteropServices;
using EventSnn.Events;

namespace EventSnn.Datasets.Audio;

/// <summary>Parameters of the <see cref="CochleaEncoder"/>.</summary>
public sealed record CochleaOptions
{
    /// <summary>Number of channels (700 like SHD).</summary>
    public int Channels { get; init; } = 700;

    /// <summary>Centre frequency of the lowest channel in Hz.</summary>
    public double MinFrequencyHz { get; init; } = 60;

    /// <summary>Centre frequency of the highest channel in Hz (clipped to 0.45 x the sampling rate).</summary>
    public double MaxFrequencyHz { get; init; } = 8000;

    /// <summary>Biquads per channel (2 = 4th-order band-pass).</summary>
    public int FilterStages { get; init; } = 2;

    /// <summary>Channel bandwidth in ERBs.</summary>
    public double BandwidthErb { get; init; } = 1.0;

    /// <summary>
    /// First-order pre-emphasis coefficient a of y[n] = x[n] - a x[n-1] (0 = off); tilts the
    /// spectrum up (speech falls about 6 dB per octave) so high channels are not starved.
    /// </summary>
    public double PreEmphasis { get; init; } = 0.7;

    /// <summary>Input gain applied before compression (PCM full scale = 1).</summary>
    public double InputGain { get; init; } = 1.0;

    /// <summary>
    /// Compression exponent of the rectified filter output (1/3 = cube root, Stevens'
    /// power law); 0 selects logarithmic compression log(1 + x / floor) / log(1 + 1 / floor).
    /// </summary>
    public double CompressionExponent { get; init; } = 1.0 / 3.0;

    /// <summary>Level at which logarithmic compression bends (only when <see cref="CompressionExponent"/> is 0).</summary>
    public double LogFloor { get; init; } = 1e-3;

    /// <summary>Drive of the spiking unit per second at compressed level 1 (in thresholds per second).</summary>
    public double DrivePerSecond { get; init; } = 1800;

    /// <summary>Membrane leak time constant of the spiking units in milliseconds.</summary>
    public double MembraneTauMs { get; init; } = 5.0;

    /// <summary>Refractory period after a spike in milliseconds.</summary>
    public double RefractoryMs { get; init; } = 8.0;

    /// <summary>Timestamp of the first sample in microseconds.</summary>
    public long StartUs { get; init; }
}

/// <summary>
/// Live-capable audio front end: PCM samples -> <see cref="CochleaFilterBank"/> ->
/// half-wave rectification -> compression (cube root or log) -> one leaky
/// integrate-and-fire unit per channel with a refractory period -> <see cref="AudioSpike"/>s.
/// <para>
/// Why an IIR bank rather than an STFT: it keeps sample-accurate timing (spikes lock to the
/// phase of low-frequency channels and to onsets, like the hair cells behind SHD's
/// cochlea model), has no frame latency and carries its state across chunks of any size,
/// which is what a live microphone needs. Everything is deterministic.
/// </para>
/// Call <see cref="Process"/> with chunks as they arrive; the state (filters, membranes,
/// refractory counters, time) carries over, so splitting a signal into chunks gives
/// exactly the spikes of one call on the whole signal.
/// </summary>
public sealed class CochleaEncoder
{
    private readonly CochleaOptions _options;
    private readonly CochleaFilterBank _bank;
    private readonly int _channels;
    private readonly float[] _y;
    private readonly float[] _v;
    private readonly float[] _refractory;
    private readonly float _decay;
    private readonly float _drive;
    private readonly float _refractorySamples;
    private readonly float _gain;
    private readonly float _exponent;
    private readonly float _logFloor;
    private readonly float _logNorm;
    private readonly float _preEmphasis;
    private float _previous;
    private long _samples;

    /// <summary>Creates an encoder for PCM at <paramref name="sampleRate"/> Hz.</summary>
    public CochleaEncoder(int sampleRate, CochleaOptions? options = null)
    {
        _options = options ?? new CochleaOptions();
        _bank = new CochleaFilterBank(sampleRate, _options.Channels, _options.MinFrequencyHz, _options.MaxFrequencyHz, _options.FilterStages, _options.BandwidthErb);
        _channels = _options.Channels;
        int padded = _bank.PaddedChannels;
        _y = new float[padded];
        _v = new float[padded];
        _refractory = new float[padded];
        double dt = 1.0 / sampleRate;
        _decay = (float)Math.Exp(-dt / (_options.MembraneTauMs * 1e-3));
        _drive = (float)(_options.DrivePerSecond * dt);
        _refractorySamples = (float)(_options.RefractoryMs * 1e-3 * sampleRate);
        _gain = (float)_options.InputGain;
        _preEmphasis = (float)_options.PreEmphasis;
        _exponent = (float)_options.CompressionExponent;
        _logFloor = (float)_options.LogFloor;
        _logNorm = (float)(1.0 / Math.Log(1 + (1 / _options.LogFloor)));
        SampleRate = sampleRate;
    }

    /// <summary>Sampling rate in Hz.</summary>
    public int SampleRate { get; }

    /// <summary>Number of channels.</summary>
    public int Channels => _channels;

    /// <summary>The options in force.</summary>
    public CochleaOptions Options => _options;

    /// <summary>Centre frequency of each channel in Hz (channel 0 lowest).</summary>
    public ReadOnlySpan<double> CentreFrequencies => _bank.CentreFrequencies;

    /// <summary>Samples consumed so far.</summary>
    public long SamplesProcessed => _samples;

    /// <summary>Timestamp (us) that the next sample will get.</summary>
    public long NextTimestampUs => TimestampOf(_samples);

    /// <summary>Encodes a whole mono signal into a new list of spikes (tools and tests; not for hot paths).</summary>
    public static List<AudioSpike> EncodeAll(ReadOnlySpan<float> samples, int sampleRate, CochleaOptions? options = null)
    {
        var result = new List<AudioSpike>();
        var encoder = new CochleaEncoder(sampleRate, options);
        using var batch = new SpikeBatch(1 << 14);
        while (!samples.IsEmpty)
        {
            batch.Clear();
            int used = encoder.Process(samples, batch);
            for (int i = 0; i < batch.Count; i++)
            {
                result.Add(batch[i]);
            }

            samples = samples[used..];
        }

        return result;
    }

    /// <summary>Forgets all state and restarts time at <see cref="CochleaOptions.StartUs"/>.</summary>
    public void Reset()
    {
        _bank.Reset();
        Array.Clear(_v);
        Array.Clear(_refractory);
        _previous = 0;
        _samples = 0;
    }

    /// <summary>
    /// Encodes samples and appends the spikes to <paramref name="output"/> (it is not cleared).
    /// Stops early, before a sample whose spikes might not fit, when fewer than
    /// <see cref="Channels"/> slots remain; returns the number of samples consumed. Call again
    /// with the rest (after draining the batch) to continue.
    /// </summary>
    public int Process(ReadOnlySpan<float> samples, SpikeBatch output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.Capacity < _channels)
        {
            throw new ArgumentException($"the batch must hold at least {_channels} spikes", nameof(output));
        }

        Span<Vector<float>> y = MemoryMarshal.Cast<float, Vector<float>>(_y.AsSpan());
        Span<Vector<float>> v = MemoryMarshal.Cast<float, Vector<float>>(_v.AsSpan());
        Span<Vector<float>> rf = MemoryMarshal.Cast<float, Vector<float>>(_refractory.AsSpan());
        var decay = new Vector<float>(_decay);
        var drive = new Vector<float>(_drive);
        var one = Vector<float>.One;
        var zero = Vector<float>.Zero;
        int lanes = Vector<float>.Count;
        bool cube = MathF.Abs(_exponent - (1f / 3f)) < 1e-6f;
        int consumed = 0;
        for (; consumed < samples.Length; consumed++)
        {
            if (output.Remaining < _channels)
            {
                break;
            }

            float x = samples[consumed];
            _bank.Step((x - (_preEmphasis * _previous)) * _gain, _y);
            _previous = x;
            Compress(_y, cube);
            long t = TimestampOf(_samples);
            for (int k = 0; k < y.Length; k++)
            {
                Vector<float> r = rf[k];
                Vector<float> vv = (v[k] * decay) + (drive * y[k]);
                Vector<float> active = Vector.LessThanOrEqual(r, zero).As<int, float>();
                // refractory units are clamped at rest
                vv = Vector.ConditionalSelect(active.As<float, int>(), vv, zero);
                Vector<int> fire = Vector.GreaterThanOrEqual(vv, one) & active.As<float, int>();
                rf[k] = Vector.Max(r - one, zero);
                if (fire != Vector<int>.Zero)
                {
                    int baseC = k * lanes;
                    for (int l = 0; l < lanes; l++)
                    {
                        if (fire[l] != 0)
                        {
                            output.Add(t, baseC + l);
                        }
                    }

                    vv = Vector.ConditionalSelect(fire, zero, vv);
                    rf[k] = Vector.ConditionalSelect(fire, new Vector<float>(_refractorySamples), rf[k]);
                }

                v[k] = vv;
            }

            _samples++;
        }

        return consumed;
    }

    private long TimestampOf(long sampleIndex) => _options.StartUs + (long)Math.Round(sampleIndex * 1e6 / SampleRate);

    private void Compress(Span<float> y, bool cube)
    {
        Span<Vector<float>> yv = MemoryMarshal.Cast<float, Vector<float>>(y);
        var tiny = new Vector<float>(1e-12f);
        var zero = Vector<float>.Zero;
        if (cube || _exponent > 0)
        {
            // x^e = exp(e ln x) on the positive half-wave, 0 elsewhere
            var e = new Vector<float>(cube ? 1f / 3f : _exponent);
            for (int k = 0; k < yv.Length; k++)
            {
                Vector<float> x = yv[k];
                Vector<int> positive = Vector.GreaterThan(x, zero);
                Vector<float> p = Vector.Exp(Vector.Log(Vector.Max(x, tiny)) * e);
                yv[k] = Vector.ConditionalSelect(positive, p, zero);
            }

            return;
        }

        var inv = new Vector<float>(1f / _logFloor);
        var norm = new Vector<float>(_logNorm);
        for (int k = 0; k < yv.Length; k++)
        {
            Vector<float> x = Vector.Max(yv[k], zero);
            yv[k] = Vector.Log(Vector<float>.One + (x * inv)) * norm;
        }
    }
}

/// <summary>Helpers to run the audio front end over whole signals and WAV streams.</summary>
public static class AudioEncoding
{
    /// <summary>
    /// Streams a WAV source (mixed down to mono) through a cochlea encoder chunk by chunk, as a
    /// live source would arrive, handing <paramref name="sink"/> each filled batch (and the last,
    /// partial one). The batch is reused: copy what you keep. Returns the number of spikes.
    /// </summary>
    public static long EncodeWav(WavReader wav, CochleaOptions? options, Action<SpikeBatch> sink, int chunkFrames = 1024, int batchCapacity = SpikeBatch.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(wav);
        ArgumentNullException.ThrowIfNull(sink);
        var encoder = new CochleaEncoder(wav.SampleRate, options);
        using var batch = new SpikeBatch(Math.Max(batchCapacity, encoder.Channels));
        float[] chunk = System.Buffers.ArrayPool<float>.Shared.Rent(chunkFrames);
        long spikes = 0;
        try
        {
            int n;
            while ((n = wav.ReadMono(chunk.AsSpan(0, chunkFrames))) > 0)
            {
                ReadOnlySpan<float> rest = chunk.AsSpan(0, n);
                while (!rest.IsEmpty)
                {
                    int used = encoder.Process(rest, batch);
                    rest = rest[used..];
                    if (!rest.IsEmpty || batch.Remaining < encoder.Channels)
                    {
                        spikes += batch.Count;
                        sink(batch);
                        batch.Clear();
                    }
                }
            }

            if (batch.Count > 0)
            {
                spikes += batch.Count;
                sink(batch);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(chunk);
        }

        return spikes;
    }

    /// <summary>
    /// Encodes a mono signal into spike times (microseconds) and units (channels), the SHD
    /// layout, appended to the given lists. Returns the number of spikes added.
    /// </summary>
    public static int EncodeToShd(ReadOnlySpan<float> samples, int sampleRate, CochleaOptions? options, List<long> times, List<ushort> units)
    {
        ArgumentNullException.ThrowIfNull(times);
        ArgumentNullException.ThrowIfNull(units);
        var encoder = new CochleaEncoder(sampleRate, options);
        using var batch = new SpikeBatch(1 << 14);
        int added = 0;
        while (!samples.IsEmpty)
        {
            batch.Clear();
            int used = encoder.Process(samples, batch);
            for (int i = 0; i < batch.Count; i++)
            {
                times.Add(batch.T[i]);
                units.Add(batch.Channel[i]);
            }

            added += batch.Count;
            samples = samples[used..];
        }

        return added;
    }
}
