using EventSnn.Datasets.Dvs;
using EventSnn.Events;

namespace EventSnn.Datasets.Generators;

/// <summary>Options of the gesture generator.</summary>
public sealed record GestureGeneratorOptions
{
    /// <summary>Sensor size (128 x 128 like DVS128 Gesture).</summary>
    public SensorGeometry Geometry { get; init; } = SensorGeometry.Dvs128;

    /// <summary>Rendering rate; events are interpolated between frames.</summary>
    public double FrameRateHz { get; init; } = 500;

    /// <summary>Pause between gestures in seconds (unlabelled).</summary>
    public double GapSeconds { get; init; } = 0.25;

    /// <summary>Timestamp of the start of every recording (Unix epoch microseconds, as DV writes).</summary>
    public long StartUs { get; init; } = 1_700_000_000_000_000;

    /// <summary>The sensor model.</summary>
    public DvsEmulatorOptions Emulator { get; init; } = new()
    {
        OnThreshold = 0.3,
        OffThreshold = 0.3,
        ThresholdSigma = 0.04,
        RefractoryUs = 500,
        LeakRateHz = 0.05,
        ShotNoiseRateHz = 0.02,
    };
}

/// <summary>A labelled interval of a gesture recording, as in DVS128 Gesture's *_labels.csv (class is 1-based there).</summary>
public readonly record struct GestureLabel(int Class, long StartUs, long EndUs);

/// <summary>
/// Generates one DVS128-Gesture-like recording: one "user" (an actor shape, size, speed and
/// a textured background of their own) performs every gesture class in a shuffled order,
/// with pauses between gestures. Events go to a sink batch by batch; the labelled intervals
/// are returned. Deterministic for (seed, user).
/// </summary>
public static class GestureGenerator
{
    /// <summary>Number of classes.</summary>
    public const int Classes = 10;

    /// <summary>Class names in label order.</summary>
    public static readonly string[] ClassNames =
    [
        "swipe_left", "swipe_right", "swipe_up", "swipe_down", "rotate_cw", "rotate_ccw",
        "circle_cw", "circle_ccw", "zoom_in", "zoom_out",
    ];

    /// <summary>
    /// Renders a recording of user <paramref name="user"/> performing each class
    /// <paramref name="repeats"/> times. Calls <paramref name="sink"/> with batches of events
    /// in time order (the batch is reused: copy what you keep).
    /// </summary>
    public static List<GestureLabel> Generate(int seed, int user, int repeats, GestureGeneratorOptions? options, Action<EventBatch> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        options ??= new GestureGeneratorOptions();
        var random = new Random(Seeds.Derive(seed, user, 0x6E57));
        int w = options.Geometry.Width, h = options.Geometry.Height;
        double unit = Math.Min(w, h) / 128.0;
        var shape = (ActorShape)(random.Next(6) switch { 0 or 1 or 2 => 0, int k => k - 2 });
        double radius = (11 + (8 * random.NextDouble())) * unit;
        double speed = 0.8 + (0.45 * random.NextDouble());
        var scene = new GestureScene(w, h, shape, radius, random);
        using var emulator = new DvsEmulator(options.Geometry, options.Emulator, Seeds.Derive(seed, user, 0xD55));
        using var batch = new EventBatch(1 << 14);
        var frame = new float[w * h];
        double frameUs = 1e6 / options.FrameRateHz;
        var labels = new List<GestureLabel>();
        var order = new List<int>();
        for (int r = 0; r < repeats; r++)
        {
            int[] perm = [.. Enumerable.Range(0, Classes)];
            random.Shuffle(perm);
            order.AddRange(perm);
        }

        long frameIndex = 0;
        long T(long k) => options.StartUs + (long)Math.Round(k * frameUs);

        void Emit(ActorPose pose)
        {
            scene.Render(pose, frame);
            emulator.Frame(frame, T(frameIndex++));
            while (emulator.Pending > 0)
            {
                batch.Clear();
                emulator.Append(batch);
                sink(batch);
            }
        }

        foreach (int cls in order)
        {
            var motion = new GestureMotion(
                (GestureClass)cls,
                (0.8 + (0.5 * random.NextDouble())) / speed,
                (w / 2.0) + ((random.NextDouble() - 0.5) * 36 * unit),
                (h / 2.0) + ((random.NextDouble() - 0.5) * 36 * unit),
                (45 + (25 * random.NextDouble())) * unit,
                random.NextDouble() * Math.PI * 2);
            int gapFrames = (int)Math.Round(options.GapSeconds * options.FrameRateHz * (0.8 + (0.4 * random.NextDouble())));
            ActorPose start = motion.PoseAt(0);
            for (int k = 0; k < gapFrames; k++)
            {
                Emit(start);
            }

            int frames = (int)Math.Round(motion.DurationSeconds * options.FrameRateHz);
            long startUs = T(frameIndex - 1);
            for (int k = 1; k <= frames; k++)
            {
                Emit(motion.PoseAt(k / (double)frames));
            }

            labels.Add(new GestureLabel(cls + 1, startUs, T(frameIndex - 1)));
        }

        // a short tail so the last gesture is not cut
        int tail = (int)Math.Round(0.1 * options.FrameRateHz);
        for (int k = 0; k < tail; k++)
        {
            emulator.Frame(frame, T(frameIndex++));
            while (emulator.Pending > 0)
            {
                batch.Clear();
                emulator.Append(batch);
                sink(batch);
            }
        }

        return labels;
    }
}
