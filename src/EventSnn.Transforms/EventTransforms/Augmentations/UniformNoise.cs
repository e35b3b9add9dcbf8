using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Tonic's <c>UniformNoise(n)</c>: adds <see cref="N"/> noise events uniformly distributed over
/// the sensor (x in [0, W), y in [0, H), polarity 0 or 1) and over the time span [min t, max t)
/// of the batch's events (each coordinate truncated as NumPy's cast truncates), then orders all
/// events by time (stably: at equal times the batch's events come first). Not applied to an
/// empty batch. A range "a..b" draws n per sample (per <see cref="IEventStage.Reset(ulong)"/>),
/// as Tonic draws it per call; over a stream the noise is added per batch. Text form
/// "uniform-noise:&lt;n&gt;". Needs the sensor size.
/// </summary>
public sealed class UniformNoise : EventTransform
{
    /// <summary>Creates the transform (n, or its range, within 0..2^24).</summary>
    public UniformNoise(ValueRange n)
    {
        if (!(n.Min >= 0) || !(n.Max <= 1 << 24) || n.Max < n.Min)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "must be a number of events in 0..16777216");
        }

        N = n;
    }

    /// <summary>Number of noise events (Tonic's n).</summary>
    public ValueRange N { get; }

    /// <inheritdoc />
    public override string Name => "uniform-noise";

    /// <inheritdoc />
    public override bool IsRandom => N.Max >= 1;

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) => new Stage(this, Require(geometry), seed);

    /// <inheritdoc />
    public override string ToString() => TransformText.Of(Name, N);

    private sealed class Stage : SeededStage, IDisposable
    {
        private readonly UniformNoise _transform;
        private readonly SensorGeometry _geometry;
        private readonly int _most;
        private EventBatch? _noise;
        private int _n;

        public Stage(UniformNoise transform, SensorGeometry geometry, ulong seed)
        {
            _transform = transform;
            _geometry = geometry;
            _most = (int)transform.N.Max;
            Reset(seed);
        }

        public override int MaxOutputCount(int inputCount) => (int)Math.Min((long)inputCount + _most, int.MaxValue);

        protected override void OnReset() => _n = (int)_transform.N.Draw(ref Random);

        public override void Process(EventBatch input, EventBatch output)
        {
            ArgumentNullException.ThrowIfNull(input);
            ArgumentNullException.ThrowIfNull(output);
            int n = input.Count;
            int m = n == 0 ? 0 : _n;
            if (output.Capacity < n + m)
            {
                throw new ArgumentException("output batch too small", nameof(output));
            }

            if (m == 0)
            {
                output.Clear();
                output.Append(input, 0, n);
                return;
            }

            if (_noise is null || _noise.Capacity < m)
            {
                _noise?.Dispose();
                _noise = new EventBatch(Math.Max(m, 1024));
            }

            ReadOnlySpan<long> t = input.Timestamps;
            long tMin = t[0], tMax = t[0];
            for (int i = 1; i < n; i++)
            {
                tMin = Math.Min(tMin, t[i]);
                tMax = Math.Max(tMax, t[i]);
            }

            EventBatch noise = _noise;
            long[] nt = noise.T;
            ushort[] nx = noise.X, ny = noise.Y;
            byte[] np = noise.P;
            double span = tMax - tMin;
            int w = _geometry.Width, h = _geometry.Height;
            for (int k = 0; k < m; k++)
            {
                nt[k] = (long)(tMin + (Random.NextDouble() * span));
                nx[k] = (ushort)(int)(Random.NextDouble() * w);
                ny[k] = (ushort)(int)(Random.NextDouble() * h);
                np[k] = (byte)(int)(Random.NextDouble() * 2);
            }

            noise.SetCount(m);
            EventSorting.SortByTime(noise);
            if (EventSorting.IsSorted(t))
            {
                Merge(input, noise, output);
            }
            else
            {
                output.Clear();
                output.Append(input, 0, n);
                output.Append(noise, 0, m);
                EventSorting.SortByTime(output);
            }
        }

        public void Dispose()
        {
            _noise?.Dispose();
            _noise = null;
        }

        /// <summary>Merges two time-ordered batches; at equal times <paramref name="a"/>'s events come first.</summary>
        private static void Merge(EventBatch a, EventBatch b, EventBatch output)
        {
            int na = a.Count, nb = b.Count;
            long[] ta = a.T, tb = b.T, to = output.T;
            ushort[] xa = a.X, xb = b.X, xo = output.X, ya = a.Y, yb = b.Y, yo = output.Y;
            byte[] pa = a.P, pb = b.P, po = output.P;
            int i = 0, j = 0, k = 0;
            while (i < na || j < nb)
            {
                if (j >= nb || (i < na && ta[i] <= tb[j]))
                {
                    (to[k], xo[k], yo[k], po[k]) = (ta[i], xa[i], ya[i], pa[i]);
                    i++;
                }
                else
                {
                    (to[k], xo[k], yo[k], po[k]) = (tb[j], xb[j], yb[j], pb[j]);
                    j++;
                }

                k++;
            }

            output.SetCount(k);
        }
    }
}
