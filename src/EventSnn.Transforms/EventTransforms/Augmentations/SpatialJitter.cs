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

    private sealed class Stage : SeededStage
    {
        private readonly JitterMap _shape;

        public Stage(SpatialJitter transform, SensorGeometry geometry, ulong seed)
        {
            // Cholesky factor of the covariance: (dx, dy) = L (z0, z1)
            double l00 = Math.Sqrt(transform.VarX);
            double l10 = l00 > 0 ? transform.SigmaXY / l00 : 0;
            _shape = new JitterMap
            {
                Clip = transform.ClipOutliers,
                MaxX = geometry.IsKnown ? geometry.Width - 1 : ushort.MaxValue,
                MaxY = geometry.IsKnown ? geometry.Height - 1 : ushort.MaxValue,
                L00 = l00,
                L10 = l10,
                L11 = Math.Sqrt(Math.Max(0, transform.VarY - (l10 * l10))),
            };
            Reset(seed);
        }

        public override void Process(EventBatch input, EventBatch output)
        {
            JitterMap map = _shape;
            map.Random = Random;
            EventLoop.Run(input, output, ref map);
            Random = map.Random;
        }

        private struct JitterMap : IEventMap
        {
            public TransformRandom Random;
            public bool Clip;
            public int MaxX;
            public int MaxY;
            public double L00;
            public double L10;
            public double L11;

            public bool Map(ref long t, ref ushort x, ref ushort y, ref byte p)
            {
                double z0 = Random.NextGaussian(), z1 = Random.NextGaussian();
                int nx = (int)(x + (L00 * z0));
                int ny = (int)(y + (L10 * z0) + (L11 * z1));
                bool inside = (uint)nx <= (uint)MaxX && (uint)ny <= (uint)MaxY;
                x = (ushort)Math.Clamp(nx, 0, MaxX);
                y = (ushort)Math.Clamp(ny, 0, MaxY);
                return inside || !Clip;
            }
        }
    }
}
