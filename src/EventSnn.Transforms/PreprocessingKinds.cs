namespace EventSnn.Transforms;

/// <summary>What produces the events: a DVS camera (x, y, polarity) or an audio / spike encoder (channel, polarity).</summary>
public enum InputKind
{
    /// <summary>A dynamic vision sensor of <see cref="Preprocessing.Width"/> x <see cref="Preprocessing.Height"/> pixels (JSON "dvs").</summary>
    Dvs = 0,

    /// <summary>Spikes on <see cref="Preprocessing.Channels"/> channels: a silicon cochlea, SHD/SSC, S-MNIST encodings (JSON "audio").</summary>
    Audio = 1,
}

/// <summary>How the ON/OFF polarity of an event reaches the features.</summary>
public enum PolarityMode
{
    /// <summary>Two planes: feature = polarity x plane size + cell, polarity 0 = OFF, 1 = ON (JSON "split").</summary>
    Split = 0,

    /// <summary>One plane; both polarities count alike (JSON "merge").</summary>
    Merge = 1,

    /// <summary>One plane of the ON events; OFF events are dropped (JSON "on").</summary>
    On = 2,

    /// <summary>One plane of the OFF events; ON events are dropped (JSON "off").</summary>
    Off = 3,
}

/// <summary>How a sample's events are cut into time steps.</summary>
public enum BinningKind
{
    /// <summary>Bins of <see cref="Preprocessing.BinUs"/> microseconds from the sample's start (JSON "time").</summary>
    Time = 0,

    /// <summary>Bins of <see cref="Preprocessing.BinEvents"/> events; a last partial bin is kept (JSON "count").</summary>
    Count = 1,

    /// <summary><see cref="Preprocessing.Frames"/> frames holding equal numbers of events: event i of n goes to frame floor(i x N / n) (JSON "equal_count_frames").</summary>
    EqualCountFrames = 2,

    /// <summary><see cref="Preprocessing.Frames"/> frames of equal duration over the sample's span (JSON "equal_time_frames").</summary>
    EqualTimeFrames = 3,
}

/// <summary>The value a feature takes in a step, from the number of events n that fell on it.</summary>
public enum ValueKind
{
    /// <summary>1 when n &gt; 0 (JSON "binary").</summary>
    Binary = 0,

    /// <summary>n (JSON "count").</summary>
    Count = 1,

    /// <summary>log(1 + n) (JSON "log_count").</summary>
    LogCount = 2,

    /// <summary>n divided by the pooled area (pooling² for DVS, pooling for audio): the mean count of the pooled pixels or channels (JSON "mean").</summary>
    Mean = 3,
}
