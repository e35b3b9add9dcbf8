using System.Diagnostics;
using CsCheck;
using EventSnn.Events;

namespace EventSnn.IO.Tests;

/// <summary>
/// Properties over random input (CsCheck): every writer/reader pair is the identity on any valid
/// recording within the format's limits — random sensor, sorted timestamps across the format's
/// range, polarities, coordinates, triggers, empty recordings and empty batches, batch boundaries
/// anywhere on both sides — and every reader fails on arbitrary bytes with
/// <see cref="EventFormatException"/> only, in bounded time.
/// </summary>
public class PropertyTests
{
    /// <summary>One recording: the sensor, the events and triggers in time order, and where the writer's batches end.</summary>
    public sealed record Recording(SensorGeometry Geometry, DvsEvent[] Events, TriggerEvent[] Triggers, int[] Cuts, int ReadCapacity)
    {
        public override string ToString() =>
            $"{Geometry}, {Events.Length} events [{string.Join(", ", Events.Take(6))}{(Events.Length > 6 ? ", ..." : string.Empty)}], {Triggers.Length} triggers [{string.Join(", ", Triggers.Take(4))}], cuts [{string.Join(",", Cuts)}], read capacity {ReadCapacity}";
    }

    public static TheoryData<EventFormat> Writable => new(EventWriters.Writable);

    public static TheoryData<EventFormat> Readable =>
        new(EventFormat.Aedat2, EventFormat.Aedat3, EventFormat.Aedat4, EventFormat.Evt2, EventFormat.Evt21, EventFormat.Evt3, EventFormat.Dat, EventFormat.NMnist, EventFormat.Nas, EventFormat.Shd);

    [Theory]
    [MemberData(nameof(Writable))]
    public void Write_then_read_is_the_identity(EventFormat format)
    {
        Recordings(format).Sample(r =>
        {
            byte[] file = Write(format, r);
            (List<DvsEvent> events, List<TriggerEvent> triggers) = Read(format, file, r);
            AssertSame(r.Events, events, "events");
            TriggerEvent[] expected = EventWriters.Limits(format).Triggers ? r.Triggers.Select(t => ExpectedTrigger(format, r.Geometry, t)).ToArray() : [];
            AssertSame(expected, triggers, "triggers");
        }, iter: 1000, threads: 1);
    }

    [Fact]
    public void Nas_write_then_read_is_the_identity()
    {
        Gen<(int Channels, bool Stereo, int AddressBytes, int Tick, AudioSpike[] Spikes, int Capacity)> gen =
            from channels in Gen.Int[1, 128]
            from stereo in Gen.Bool
            from addressBytes in Gen.OneOf(2, 4)
            from tick in Gen.OneOf(200, 1000)
            from steps in Gen.Select(Gen.Long[0, 5000], Gen.Int[0, channels - 1], Gen.Int[0, stereo ? 1 : 0], Gen.Bool).Array[0, 300]
            from first in Gen.Long[0, ((1L << 32) - 1) * tick / 1000 / 2]
            from capacity in Gen.Int[1, 400]
            select (channels, stereo, addressBytes, tick, Accumulate(first, steps), capacity);
        gen.Sample(c =>
        {
            var ms = new MemoryStream();
            using (var writer = new NasWriter(ms, c.Channels, c.Stereo, c.AddressBytes, c.Tick, leaveOpen: true))
            {
                foreach (AudioSpike s in c.Spikes)
                {
                    writer.Write(s);
                }
            }

            var options = new ReaderOptions { NasAddressBytes = c.AddressBytes, NasTickNanoseconds = c.Tick, NasChannels = c.Channels, NasStereo = c.Stereo };
            using var reader = new NasReader(new MemoryStream(ms.ToArray()), "spikes.aedat", options);
            var got = new List<AudioSpike>();
            using var batch = new SpikeBatch(c.Capacity);
            while (reader.Read(batch))
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    AudioSpike s = batch[i];
                    got.Add(new AudioSpike(s.T, s.Channel, s.Ear, 0, s.On));
                }
            }

            AssertSame(c.Spikes, got, "spikes");
        }, iter: 500, threads: 1);
    }

    [Fact]
    public void Shd_write_then_read_is_the_identity()
    {
        Gen<(int Channels, (long[] Times, ushort[] Units, int Label)[] Samples)> gen =
            from channels in Gen.Int[1, 700]
            from samples in Gen.Select(Gen.Long[0, 2_000_000].Array[0, 60], Gen.Int[0, 255]).Array[0, 5]
            from seed in Gen.Int
            select (channels, samples.Select((s, k) =>
            {
                long[] times = [.. s.Item1.Order()];
                var rng = new Random(seed + k);
                ushort[] units = times.Select(_ => (ushort)rng.Next(channels)).ToArray();
                return (times, units, s.Item2);
            }).ToArray());
        string dir = Directory.CreateTempSubdirectory("eventsnn-shd-prop-").FullName;
        try
        {
            int n = 0;
            gen.Sample(c =>
            {
                string path = Path.Combine(dir, $"s{Interlocked.Increment(ref n)}.h5");
                using (ShdWriter writer = ShdWriter.Create(path, c.Channels, keys: null, ShdTimeType.Float64))
                {
                    foreach ((long[] times, ushort[] units, int label) in c.Samples)
                    {
                        writer.Add(times, units, label);
                    }
                }

                using ShdFile file = ShdFile.Open(path);
                Assert.Equal(c.Samples.Length, file.Count);
                Assert.Equal(c.Channels, file.Channels);
                using var batch = new SpikeBatch(64);
                for (int i = 0; i < c.Samples.Length; i++)
                {
                    Assert.Equal(c.Samples[i].Label, file.Label(i));
                    Assert.Equal(c.Samples[i].Times.Length, file.ReadSample(i, batch));
                    Assert.Equal(c.Samples[i].Times, batch.Timestamps.ToArray());
                    Assert.Equal(c.Samples[i].Units, batch.Channels.ToArray());
                }

                File.Delete(path);
            }, iter: 60, threads: 1);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Readable))]
    public void Readers_throw_only_EventFormatException_on_arbitrary_bytes(EventFormat format)
    {
        // raw bytes, and valid files with bytes overwritten, inserted or cut off (deeper paths)
        Gen<byte[]> raw = Gen.Byte.Array[0, 2048];
        Gen<byte[]> mutated =
            from seed in Gen.Int
            from edits in Gen.Select(Gen.Int[0, 2], Gen.Int[0, int.MaxValue], Gen.Byte).Array[1, 8]
            select Mutate(ValidFile(format, seed), edits);
        Gen.Frequency((1, raw), (3, mutated)).Sample(bytes =>
        {
            foreach (bool strict in new[] { false, true })
            {
                var clock = Stopwatch.StartNew();
                try
                {
                    ReadEverything(format, bytes, strict);
                }
                catch (EventFormatException)
                {
                }

                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{bytes.Length} bytes took {clock.Elapsed.TotalSeconds:F1} s");
            }
        }, iter: 2000, threads: 1, print: b => Convert.ToHexString(b));
    }

    /// <summary>Opens <paramref name="bytes"/> as <paramref name="format"/> and reads it to the end.</summary>
    internal static long ReadEverything(EventFormat format, byte[] bytes, bool strict)
    {
        var options = new ReaderOptions { Format = format, Strict = strict, MaxPacketBytes = 1 << 20, BufferBytes = 4096 };
        using IEventReader reader = EventReaders.Open(new MemoryStream(bytes, writable: false), "fuzz", options);
        long n = 0;
        if (reader is IDvsEventReader dvs)
        {
            using var batch = new EventBatch(512);
            while (dvs.Read(batch))
            {
                n += batch.Count + batch.Triggers.Count;
            }
        }
        else
        {
            using var batch = new SpikeBatch(512);
            while (((ISpikeReader)reader).Read(batch))
            {
                n += batch.Count;
            }
        }

        return n;
    }

    /// <summary>Random recordings that <paramref name="format"/> holds.</summary>
    internal static Gen<Recording> Recordings(EventFormat format)
    {
        (Gen<SensorGeometry> Geometry, long FirstMax, long StepMax) spec = format switch
        {
            EventFormat.Aedat2 => (Gen.OneOf(SensorGeometry.Dvs128, SensorGeometry.Davis240, SensorGeometry.Davis346, new SensorGeometry(640, 480), new SensorGeometry(208, 192)), (1L << 32) - 1, (1L << 31) - 1),
            EventFormat.Aedat3 => (Sizes(1, 32768), 1L << 61, 1L << 40),
            EventFormat.Aedat4 => (Sizes(1, 32768), 1L << 62, 1L << 40),
            EventFormat.Evt2 or EventFormat.Evt21 => (Sizes(1, 2048), 1L << 40, 1L << 34),
            EventFormat.Evt3 => (Sizes(1, 2048), 1L << 32, 1L << 26),
            EventFormat.Dat => (Sizes(1, 16384), (1L << 32) - 1, (1L << 31) - 1),
            _ => (Sizes(1, 256).Select(g => g with { Height = Math.Min(g.Height, 240) }), 1L << 26, 1L << 16),
        };
        (Gen<SensorGeometry> geometry, long firstMax, long stepMax) = spec;
        bool negative = format == EventFormat.Aedat4;
        Gen<long> step = Gen.Frequency((6, Gen.Long[0, 3]), (3, Gen.Long[0, 1000]), (1, Gen.Long[0, stepMax]));
        Gen<TriggerEvent> trigger = TriggerKinds(format);
        return
            from g in geometry
            from first in negative ? Gen.Long[-(1L << 50), 1L << 50] : Gen.Frequency((3, Gen.Long[0, 1000]), (1, Gen.Long[0, firstMax]))
            from items in Gen.Select(step, Gen.Int[0, g.Width - 1], Gen.Int[0, g.Height - 1], Gen.Bool, Gen.Int[0, 30], Gen.Int[2, 40]).Array[0, 400]
            from triggers in trigger.Array[0, 6]
            from cuts in Gen.Int[0, 400].Array[0, 6]
            from capacity in Gen.Int[1, 600]
            select Build(g, first, items, triggers, cuts, capacity);
    }

    private static Gen<SensorGeometry> Sizes(int min, int max) =>
        Gen.Frequency(
            (3, Gen.Select(Gen.Int[min, Math.Min(max, 64)], Gen.Int[min, Math.Min(max, 64)])),
            (1, Gen.Select(Gen.Int[min, max], Gen.Int[min, max])))
        .Select(s => new SensorGeometry(s.Item1, s.Item2));

    /// <summary>Triggers whose kind and channel the format keeps (timestamps are placed later).</summary>
    private static Gen<TriggerEvent> TriggerKinds(EventFormat format) => format switch
    {
        EventFormat.Aedat4 => Gen.OneOf(TriggerKind.ExternalRising, TriggerKind.ExternalFalling, TriggerKind.ExternalPulse).Select(k => new TriggerEvent(0, k)),
        EventFormat.Aedat3 => Gen.Select(Gen.OneOf(TriggerKind.ExternalRising, TriggerKind.ExternalFalling, TriggerKind.ExternalPulse), Gen.Int[0, 2]).Select(k => new TriggerEvent(0, k.Item1, k.Item2)),
        EventFormat.Evt2 or EventFormat.Evt21 => Gen.Select(Gen.Bool, Gen.Int[0, 31]).Select(k => new TriggerEvent(0, k.Item1 ? TriggerKind.ExternalRising : TriggerKind.ExternalFalling, k.Item2)),
        EventFormat.Evt3 => Gen.Select(Gen.Bool, Gen.Int[0, 15]).Select(k => new TriggerEvent(0, k.Item1 ? TriggerKind.ExternalRising : TriggerKind.ExternalFalling, k.Item2)),
        EventFormat.Aedat2 => Gen.Const(new TriggerEvent(0, TriggerKind.External)),
        _ => Gen.Const(new TriggerEvent(0, TriggerKind.External)), // no triggers: the recording drops them
    };

    /// <summary>What the reader returns for a written trigger.</summary>
    private static TriggerEvent ExpectedTrigger(EventFormat format, SensorGeometry geometry, TriggerEvent t) => format switch
    {
        EventFormat.Aedat4 => new TriggerEvent(t.T, t.Kind, t.Kind switch { TriggerKind.ExternalRising => 1, TriggerKind.ExternalFalling => 2, _ => 3 }),
        EventFormat.Aedat2 => new TriggerEvent(t.T, TriggerKind.External, geometry == SensorGeometry.Dvs128 ? (int)JaerAddress.Dvs128ExternalBit : (int)JaerAddress.DavisExternalBit),
        _ => t,
    };

    /// <summary>
    /// Builds the recording: time steps from <paramref name="first"/>, events with an occasional run
    /// of same-time, same-row, same-polarity events at increasing x (the vector encodings), and the
    /// triggers placed at event times.
    /// </summary>
    private static Recording Build(SensorGeometry g, long first, (long Step, int X, int Y, bool On, int Run, int RunLength)[] items, TriggerEvent[] kinds, int[] cuts, int capacity)
    {
        var events = new List<DvsEvent>();
        long t = first;
        bool started = false;
        foreach ((long step, int x, int y, bool on, int run, int runLength) in items)
        {
            t += started ? step : 0; // the first event is at 'first'
            started = true;
            if (run == 0)
            {
                for (int k = 0, cx = x; k < runLength && cx < g.Width; k++, cx += 1 + (k % 3 == 0 ? 1 : 0))
                {
                    events.Add(new DvsEvent(t, (ushort)cx, (ushort)y, on));
                }
            }
            else
            {
                events.Add(new DvsEvent(t, (ushort)x, (ushort)y, on));
            }
        }

        var triggers = new TriggerEvent[events.Count == 0 ? 0 : kinds.Length];
        for (int i = 0; i < triggers.Length; i++)
        {
            triggers[i] = kinds[i] with { T = events[(int)((long)events.Count * i / triggers.Length)].T };
        }

        int[] sortedCuts = [.. cuts.Where(c => c <= events.Count).Order()];
        return new Recording(g, [.. events], triggers, sortedCuts, capacity);
    }

    private static AudioSpike[] Accumulate(long first, (long Step, int Channel, int Ear, bool On)[] steps)
    {
        var spikes = new AudioSpike[steps.Length];
        long t = first;
        for (int i = 0; i < steps.Length; i++)
        {
            t += steps[i].Step;
            spikes[i] = new AudioSpike(t, (ushort)steps[i].Channel, (byte)steps[i].Ear, 0, steps[i].On);
        }

        return spikes;
    }

    /// <summary>Writes the recording in batches cut at <see cref="Recording.Cuts"/> (empty batches included).</summary>
    internal static byte[] Write(EventFormat format, Recording r)
    {
        var ms = new MemoryStream();
        bool triggers = EventWriters.Limits(format).Triggers;
        using (IEventWriter writer = EventWriters.Create(format, ms, r.Geometry, Aedat4Compression.Lz4, triggers: true, leaveOpen: true))
        using (var batch = new EventBatch(Math.Max(1, r.Events.Length) * 64))
        {
            int start = 0, ti = 0;
            foreach (int cut in r.Cuts.Append(r.Events.Length))
            {
                batch.Clear();
                for (int i = start; i < cut; i++)
                {
                    batch.Add(r.Events[i]);
                }

                // triggers up to the batch's last event (all the rest with the last batch)
                long limit = cut >= r.Events.Length ? long.MaxValue : cut > start ? r.Events[cut - 1].T : long.MinValue;
                while (triggers && ti < r.Triggers.Length && r.Triggers[ti].T <= limit)
                {
                    batch.Triggers.Add(r.Triggers[ti++]);
                }

                writer.Write(batch);
                start = Math.Max(start, cut);
            }
        }

        return ms.ToArray();
    }

    internal static (List<DvsEvent> Events, List<TriggerEvent> Triggers) Read(EventFormat format, byte[] file, Recording r)
    {
        var options = new ReaderOptions { Format = format, Strict = true, Aedat2Chip = null };
        using IDvsEventReader reader = (IDvsEventReader)EventReaders.Open(new MemoryStream(file, writable: false), "prop", options);
        var events = new List<DvsEvent>();
        var triggers = new List<TriggerEvent>();
        using var batch = new EventBatch(r.ReadCapacity);
        while (reader.Read(batch))
        {
            Assert.Equal(0, batch.Triggers.Dropped);
            events.AddRange(batch.ToArray());
            foreach (TriggerEvent t in batch.Triggers.Items)
            {
                triggers.Add(t);
            }
        }

        Assert.Empty(reader.Warnings);
        return (events, triggers);
    }

    private static void AssertSame<T>(IReadOnlyList<T> expected, IReadOnlyList<T> actual, string what)
    {
        int n = Math.Min(expected.Count, actual.Count);
        for (int i = 0; i < n; i++)
        {
            if (!EqualityComparer<T>.Default.Equals(expected[i], actual[i]))
            {
                Assert.Fail($"{what} {i}: expected {expected[i]}, got {actual[i]}");
            }
        }

        Assert.True(expected.Count == actual.Count, $"{what}: expected {expected.Count}, got {actual.Count}");
    }

    /// <summary>A small valid file of <paramref name="format"/> (deterministic per seed).</summary>
    internal static byte[] ValidFile(EventFormat format, int seed)
    {
        var rng = new Random(seed);
        if (format == EventFormat.Nas)
        {
            var ms = new MemoryStream();
            using (var w = new NasWriter(ms, 16, rng.Next(2) == 1, rng.Next(2) == 0 ? 2 : 4, 1000, leaveOpen: true))
            {
                long t = rng.Next(1000);
                for (int i = 0; i < 40; i++)
                {
                    w.Write(t += rng.Next(100), rng.Next(16), 0, rng.Next(2) == 1);
                }
            }

            return ms.ToArray();
        }

        if (format == EventFormat.Shd)
        {
            return ShdSeed.Value;
        }

        var events = new List<DvsEvent>();
        long time = rng.Next(1000);
        for (int i = 0; i < 60; i++)
        {
            events.Add(new DvsEvent(time += rng.Next(50), (ushort)rng.Next(34), (ushort)rng.Next(34), rng.Next(2) == 1));
        }

        TriggerEvent[] triggers = EventWriters.Limits(format).Triggers ? [new TriggerEvent(events[30].T, TriggerKind.ExternalRising)] : [];
        return Write(format, new Recording(format == EventFormat.Aedat2 ? SensorGeometry.Dvs128 : new SensorGeometry(34, 34), [.. events], triggers, [20], 64));
    }

    private static readonly Lazy<byte[]> ShdSeed = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"eventsnn-shd-seed-{Environment.ProcessId}.h5");
        try
        {
            using (ShdWriter w = ShdWriter.Create(path, 8, keys: null, ShdTimeType.Float32))
            {
                w.Add([0, 10, 20], [1, 2, 3], label: 1);
                w.Add([5], [7], label: 2);
            }

            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    });

    /// <summary>Applies edits: 0 overwrite a byte, 1 insert a byte, 2 cut the file at a point.</summary>
    internal static byte[] Mutate(byte[] file, (int Kind, int At, byte Value)[] edits)
    {
        var bytes = new List<byte>(file);
        foreach ((int kind, int at, byte value) in edits)
        {
            int i = bytes.Count == 0 ? 0 : at % bytes.Count;
            switch (kind)
            {
                case 0 when bytes.Count > 0:
                    bytes[i] = value;
                    break;
                case 1:
                    bytes.Insert(i, value);
                    break;
                case 2:
                    bytes.RemoveRange(i, bytes.Count - i);
                    break;
            }
        }

        return [.. bytes];
    }
}
