using EventSnn.Events;

namespace EventSnn.Transforms;

/// <summary>
/// Tonic's <c>SpatialJitter(var_x, var_y, sigma_xy, clip_outliers)</c>: every event moves by a
/// draw of the bivariate normal of covariance [[var_x, sigma_xy], [sigma_xy, var_y]],
/// <c>x' = trunc(x + dx)</c>, <c>y' = trunc(y + dy)</c> (truncated toward zero as NumPy's cast
/// into Tonic's integer fields). With <see cref="ClipOutliers"/> events that land off the sensor
/// are dropped, as in Tonic. Without it Tonic keeps them at coordinates outside the sensor
/// (negative ones included), which unsigned addresses cannot hold: here they are clamped to the
/// sensor's edge (to 0..65535 when the sensor size is unknown). Text form
/// "spatial-jitter:&lt;var_x&gt;[:&lt;var_y&gt;[:&lt;sigma_xy&gt;[:&lt;clip_outliers&gt;]]]" (Tonic's defaults 1, 1, 0, false).
/// </summary>
public sealed class SpatialJitter : EventTransform
{
    /// <summary>Creates the transform (a positive semi-definite covariance: sigma_xy² &lt;= var_x var_y).</summary>
    public SpatialJitter(double varX = 1, double varY = 1, double sigmaXY = 0, bool clipOutliers = false)
    {
        if (!(varX >= 0) || !double.IsFinite(varX))
        {
            throw new ArgumentOutOfRangeException(nameof(varX), varX, "must be a finite variance >= 0");
        }

        if (!(varY >= 0) || !double.IsFinite(varY))
        {
            throw new ArgumentOutOfRangeException(nameof(varY), varY, "must be a finite variance >= 0");
        }

        if (!double.IsFinite(sigmaXY) || sigmaXY * sigmaXY > varX * varY)
        {
            throw new ArgumentOutOfRangeException(nameof(sigmaXY), sigmaXY, "must satisfy sigma_xy² <= var_x x var_y (a covariance)");
        }

        VarX = varX;
        VarY = varY;
        SigmaXY = sigmaXY;
        ClipOutliers = clipOutliers;
    }

    /// <summary>Variance of the x shift (pixels²).</summary>
    public double VarX { get; }

    /// <summary>Variance of the y shift (pixels²).</summary>
    public double VarY { get; }

    /// <summary>Covariance of the x and y shifts.</summary>
    public double SigmaXY { get; }

    /// <summary>Drop events jittered off the sensor.</summary>
    public bool ClipOutliers { get; }

    /// <inheritdoc />
    public override string Name => "spatial-jitter";

    /// <inheritdoc />
    public override bool IsRandom => VarX > 0 || VarY > 0;

    /// <inheritdoc />
    public override IEventStage Start(SensorGeometry geometry, ulong seed = 0) =>
        new Stage(this, ClipOutliers ? Require(geometry) : geometry, seed);

    /// <inheritdoc />
    public override string ToString() =>
        ClipOutliers ? TransformText.Of(Name, VarX, VarY, SigmaXY, true)
        : SigmaXY != 0 ? TransformText.Of(Name, VarX, VarY, SigmaXY)
        : TransformText.Of(Name, VarX, VarY == 1 && VarX == 1 ? null : VarY);

    private sealed class Stage : IEventStage
    {
        private readonly bool _clip;
        private readonly int _maxX;
        private readonly int _maxY;
        private readonly double _l00;
        private readonly double _l10;
        private readonly double _l11;
        private TransformRandom _random;
        private ulong _seed;

        public Stage(SpatialJitter transform, SensorGeometry geometry, ulong seed)
        {
            _clip = transform.ClipOutliers;
            _maxX = geometry.IsKnown ? geometry.Width - 1 : ushort.MaxValue;
            _maxY = geometry.IsKnown ? geometry.Height - 1 : ushort.MaxValue;

            // Cholesky factor of the covariance: (dx, dy) = L (z0, z1)
            _l00 = Math.Sqrt(transform.VarX);
            _l10 = _l00 > 0 ? transform.SigmaXY / _l00 : 0;
            _l11 = Math.Sqrt(Math.Max(0, transform.VarY - (_l10 * _l10)));
            Reset(seed);
        }

        public void Reset() => Reset(_seed);

        public void Reset(ulong seed)
        {
            _seed = seed;
            _random = new TransformRandom(seed);
        }

        public SensorGeometry OutputGeometry(SensorGeometry input) => input;

        public void Process(EventBatch input, EventBatch output)
        {
            ArgumentNullException.ThrowIfNull(input);
            ArgumentNullException.ThrowIfNull(output);
            int n = input.Count;
            long[] ti = input.T, to = output.T;
            ushort[] xi = input.X, yi = input.Y, xo = output.X, yo = output.Y;
            byte[] pi = input.P, po = output.P;
            int maxX = _maxX, maxY = _maxY;
            int kept = 0;
            for (int i = 0; i < n; i++)
            {
                double z0 = _random.NextGaussian(), z1 = _random.NextGaussian();
                int x = (int)(xi[i] + (_l00 * z0));
                int y = (int)(yi[i] + (_l10 * z0) + (_l11 * z1));
                bool inside = (uint)x <= (uint)maxX && (uint)y <= (uint)maxY;
                to[kept] = ti[i];
                xo[kept] = (ushort)Math.Clamp(x, 0, maxX);
                yo[kept] = (ushort)Math.Clamp(y, 0, maxY);
                po[kept] = pi[i];
                kept += inside || !_clip ? 1 : 0;
            }

            output.SetCount(kept);
        }
    }
}
