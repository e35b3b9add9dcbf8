using EventSnn.Datasets.Audio;
using EventSnn.Events;
using EventSnn.IO;

namespace EventSnn.Datasets.Tests;

public class AudioTests
{
    [Theory]
    [InlineData(250.0)]
    [InlineData(1000.0)]
    [InlineData(3000.0)]
    public void FilterBank_PureTone_ExcitesTheChannelWhoseCentreIsNearest(double hz)
    {
        const int rate = 16000;
        var bank = new CochleaFilterBank(rate, 700, 60, 7000);
        float[] tone = TestWav.Tone(hz, 1.0, rate, 0.5);
        var y = new float[bank.PaddedChannels];
        var energy = new double[700];
        for (int i = 0; i < tone.Length; i++)
        {
            bank.Step(tone[i], y);
            if (i >= tone.Length / 2)
            {
                for (int c = 0; c < 700; c++)
                {
                    energy[c] += y[c] * (double)y[c];
                }
            }
        }

        int best = 0;
        for (int c = 1; c < 700; c++)
        {
            if (energy[c] > energy[best])
            {
                best = c;
            }
        }

        int nearest = 0;
        for (int c = 1; c < 700; c++)
        {
            if (Math.Abs(bank.CentreFrequencies[c] - hz) < Math.Abs(bank.CentreFrequencies[nearest] - hz))
            {
                nearest = c;
            }
        }

        Assert.InRange(best, nearest - 2, nearest + 2);
        double gain = Math.Sqrt(2 * energy[best] / (tone.Length - (tone.Length / 2)));
        Assert.InRange(gain, 0.9, 1.1); // unit gain at the centre frequency

        // a channel an octave above is at least 20 dB down
        int octave = Array.FindIndex(bank.CentreFrequencies, f => f >= 2 * hz);
        Assert.True(octave > 0);
        Assert.True(energy[octave] < energy[best] / 100, $"octave channel energy {energy[octave]} vs {energy[best]}");
    }

    [Fact]
    public void FilterBank_CentresAreErbSpacedAndAscending()
    {
        var bank = new CochleaFilterBank(22050, 700, 60, 8000);
        Assert.Equal(60, bank.CentreFrequencies[0], 6);
        Assert.Equal(8000, bank.CentreFrequencies[699], 6);
        double step = CochleaFilterBank.ErbRate(bank.CentreFrequencies[1]) - CochleaFilterBank.ErbRate(bank.CentreFrequencies[0]);
        for (int c = 1; c < 700; c++)
        {
            Assert.True(bank.CentreFrequencies[c] > bank.CentreFrequencies[c - 1]);
            double d = CochleaFilterBank.ErbRate(bank.CentreFrequencies[c]) - CochleaFilterBank.ErbRate(bank.CentreFrequencies[c - 1]);
            Assert.Equal(step, d, 9);
        }
    }

    [Fact]
    public void Encoder_SpikeCountIsMonotoneInLoudness()
    {
        const int rate = 16000;
        int previous = -1;
        int first = 0;
        foreach (double amplitude in new[] { 0.003, 0.01, 0.03, 0.1, 0.3, 0.9 })
        {
            int count = CochleaEncoder.EncodeAll(TestWav.Tone(800, amplitude, rate, 0.3), rate).Count;
            Assert.True(count >= previous, $"amplitude {amplitude}: {count} spikes < {previous}");
            if (previous < 0)
            {
                first = count;
            }

            previous = count;
        }

        Assert.True(previous > (2 * first) + 50, $"loud {previous} vs quiet {first}");
    }

    [Fact]
    public void Encoder_ToneSpikesConcentrateAroundTheToneChannel()
    {
        const int rate = 16000;
        var encoder = new CochleaEncoder(rate);
        List<AudioSpike> spikes = CochleaEncoder.EncodeAll(TestWav.Tone(1000, 0.3, rate, 0.3), rate);
        Assert.NotEmpty(spikes);
        double erb1k = CochleaFilterBank.ErbRate(1000);
        int near = 0;
        foreach (AudioSpike s in spikes)
        {
            Assert.InRange(s.Channel, 0, 699);
            if (Math.Abs(CochleaFilterBank.ErbRate(encoder.CentreFrequencies[s.Channel]) - erb1k) < 3.0)
            {
                near++;
            }
        }

        Assert.True(near > spikes.Count * 0.8, $"{near} of {spikes.Count} spikes within 3 ERB of 1 kHz");
    }

    [Fact]
    public void Encoder_IsDeterministicAndChunkInvariant()
    {
        const int rate = 16000;
        var rng = new Random(7);
        var noise = new float[rate / 2];
        for (int i = 0; i < noise.Length; i++)
        {
            noise[i] = (float)((rng.NextDouble() * 2) - 1) * 0.2f;
        }

        List<AudioSpike> whole = CochleaEncoder.EncodeAll(noise, rate);
        List<AudioSpike> again = CochleaEncoder.EncodeAll(noise, rate);
        Assert.True(whole.Count > 100);
        Assert.Equal(whole, again);

        // live use: odd-sized chunks and a small batch that fills up
        var encoder = new CochleaEncoder(rate);
        using var batch = new SpikeBatch(1024);
        var chunked = new List<AudioSpike>();
        int at = 0;
        while (at < noise.Length)
        {
            int len = Math.Min(noise.Length - at, 1 + rng.Next(300));
            ReadOnlySpan<float> chunk = noise.AsSpan(at, len);
            while (!chunk.IsEmpty)
            {
                batch.Clear();
                int used = encoder.Process(chunk, batch);
                chunked.AddRange(batch.ToArray());
                chunk = chunk[used..];
            }

            at += len;
        }

        Assert.Equal(whole, chunked);
        for (int i = 1; i < whole.Count; i++)
        {
            Assert.True(whole[i].T >= whole[i - 1].T);
        }
    }

    [Fact]
    public void Encoder_RespectsRefractoryPeriodPerChannel()
    {
        const int rate = 16000;
        var options = new CochleaOptions { RefractoryMs = 3 };
        List<AudioSpike> spikes = CochleaEncoder.EncodeAll(TestWav.Tone(200, 0.9, rate, 0.3), rate, options);
        var last = new Dictionary<int, long>();
        Assert.NotEmpty(spikes);
        foreach (AudioSpike s in spikes)
        {
            if (last.TryGetValue(s.Channel, out long t))
            {
                Assert.True(s.T - t >= 3000 - 63, $"channel {s.Channel}: {s.T - t} us between spikes");
            }

            last[s.Channel] = s.T;
        }
    }

    [Fact]
    public void EncodeWav_StreamsChunksToTheSameSpikesAsOneCall()
    {
        const int rate = 16000;
        float[] tone = TestWav.Tone(440, 0.5, rate, 0.4);
        using var wav = new WavReader(new MemoryStream(TestWav.Float32(tone, 1, rate)), "tone.wav");
        var streamed = new List<AudioSpike>();
        int batches = 0;
        long n = AudioEncoding.EncodeWav(wav, null, b =>
        {
            batches++;
            streamed.AddRange(b.ToArray());
        }, chunkFrames: 333, batchCapacity: 1024);
        Assert.Equal(n, streamed.Count);
        Assert.True(batches > 1);
        Assert.Equal(CochleaEncoder.EncodeAll(tone, rate), streamed);
    }

    [Fact]
    public void Wav_Pcm16StereoAndFloatMono_ReadBack()
    {
        float[] stereo = [0.5f, -0.5f, 0.25f, 0.25f, -1f, -1f];
        using (var r = new WavReader(new MemoryStream(TestWav.Pcm16(stereo, 2, 8000)), "s.wav"))
        {
            Assert.Equal(8000, r.SampleRate);
            Assert.Equal(2, r.Channels);
            Assert.Equal(3, r.FrameCount);
            var mono = new float[8];
            Assert.Equal(3, r.ReadMono(mono));
            Assert.Equal(0f, mono[0], 3);
            Assert.Equal(0.25f, mono[1], 3);
            Assert.Equal(-1f, mono[2], 3);
            Assert.Equal(0, r.ReadMono(mono));
        }

        float[] samples = [0.1f, -0.2f, 0.3f];
        using var f = new WavReader(new MemoryStream(TestWav.Float32(samples, 1, 44100)), "f.wav");
        Assert.True(f.IsFloat);
        var read = new float[3];
        Assert.Equal(3, f.ReadInterleaved(read));
        Assert.Equal(samples, read);
    }

    [Fact]
    public void Wav_MalformedInputThrowsFormatExceptionNamingTheSource()
    {
        var ex = Assert.Throws<EventFormatException>(() => new WavReader(new MemoryStream("RIFX0000WAVE"u8.ToArray()), "bad.wav"));
        Assert.Contains("bad.wav", ex.Message);
        Assert.Equal(0, ex.Offset);

        byte[] good = TestWav.Pcm16([0.1f, 0.2f], 1, 8000);
        var ex2 = Assert.Throws<EventFormatException>(() => new WavReader(new MemoryStream(good[..20]), "cut.wav"));
        Assert.True(ex2.IsTruncation);

        byte[] badRate = (byte[])good.Clone();
        BitConverter.GetBytes(5).CopyTo(badRate, 12 + 12 + 8 + 4); // sample rate field
        var ex3 = Assert.Throws<EventFormatException>(() => new WavReader(new MemoryStream(badRate), "rate.wav"));
        Assert.Equal("fmt.sampleRate", ex3.Field);
    }

    [Fact]
    public void Wav_DataChunkCutShort_YieldsCompleteFramesAndWarns()
    {
        byte[] good = TestWav.Pcm16([0.1f, 0.2f, 0.3f, 0.4f], 1, 8000);
        using var r = new WavReader(new MemoryStream(good[..^3]), "short.wav");
        var buf = new float[4];
        Assert.Equal(2, r.ReadMono(buf));
        Assert.NotEmpty(r.Warnings);
    }
}
