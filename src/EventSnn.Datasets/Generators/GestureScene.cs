namespace EventSnn.Datasets.Generators;

/// <summary>The motion classes of the generated gesture dataset (label = value; the labels CSV uses value + 1 like DVS128 Gesture).</summary>
public enum GestureClass
{
    /// <summary>Swipe from right to left.</summary>
    SwipeLeft = 0,
    /// <summary>Swipe from left to right.</summary>
    SwipeRight = 1,
    /// <summary>Swipe upwards.</summary>
    SwipeUp = 2,
    /// <summary>Swipe downwards.</summary>
    SwipeDown = 3,
    /// <summary>Rotation in place, clockwise.</summary>
    RotateClockwise = 4,
    /// <summary>Rotation in place, counter-clockwise.</summary>
    RotateCounterClockwise = 5,
    /// <summary>Moving along a circle, clockwise.</summary>
    CircleClockwise = 6,
    /// <summary>Moving along a circle, counter-clockwise.</summary>
    CircleCounterClockwise = 7,
    /// <summary>Growing (approaching the camera).</summary>
    ZoomIn = 8,
    /// <summary>Shrinking (moving away).</summary>
    ZoomOut = 9,
}

/// <summary>Shapes that perform the gestures.</summary>
public enum ActorShape
{
    /// <summary>A palm with four fingers and a thumb.</summary>
    Hand = 0,
    /// <summary>A textured disk.</summary>
    Disk = 1,
    /// <summary>A textured square.</summary>
    Square = 2,
    /// <summary>A textured triangle.</summary>
    Triangle = 3,
}

/// <summary>Pose of the actor at one instant: centre (pixels), rotation (radians), scale (1 = nominal size).</summary>
public readonly record struct ActorPose(double X, double Y, double Angle, double Scale);

/// <summary>One gesture: class, timing and the parameters of its trajectory.</summary>
public sealed record GestureMotion(GestureClass Class, double DurationSeconds, double CentreX, double CentreY, double Extent, double Phase)
{
    /// <summary>Pose at normalised time <paramref name="u"/> in [0, 1] (human-like smooth start and stop).</summary>
    public ActorPose PoseAt(double u)
    {
        u = Math.Clamp(u, 0, 1);
        double s = 0.5 - (0.5 * Math.Cos(Math.PI * u)); // eased progress
        double e = Extent;
        return Class switch
        {
            GestureClass.SwipeLeft => new(CentreX + (e * (0.5 - s)), CentreY, Phase, 1),
            GestureClass.SwipeRight => new(CentreX - (e * (0.5 - s)), CentreY, Phase, 1),
            GestureClass.SwipeUp => new(CentreX, CentreY + (e * (0.5 - s)), Phase, 1),
            GestureClass.SwipeDown => new(CentreX, CentreY - (e * (0.5 - s)), Phase, 1),
            // image y points down: a clockwise turn on screen increases the angle
            GestureClass.RotateClockwise => new(CentreX, CentreY, Phase + (s * Math.PI * 1.5), 1),
            GestureClass.RotateCounterClockwise => new(CentreX, CentreY, Phase - (s * Math.PI * 1.5), 1),
            GestureClass.CircleClockwise => Circle(s, 1),
            GestureClass.CircleCounterClockwise => Circle(s, -1),
            GestureClass.ZoomIn => new(CentreX, CentreY, Phase, 0.55 + (0.75 * s)),
            _ => new(CentreX, CentreY, Phase, 1.3 - (0.75 * s)),
        };
    }

    private ActorPose Circle(double s, int direction)
    {
        double r = Extent * 0.35;
        double a = Phase + (direction * 2 * Math.PI * s);
        return new(CentreX + (r * Math.Cos(a)), CentreY + (r * Math.Sin(a)), 0, 0.8);
    }
}

/// <summary>
/// Renders 8-bit-like float intensity frames of a textured actor (hand-like blob or shape)
/// over a static textured background. Pixels are anti-aliased over the actor's edge so
/// that sub-pixel motion changes intensities smoothly, as a real lens would.
/// </summary>
public sealed class GestureScene
{
    private readonly int _width;
    private readonly int _height;
    private readonly float[] _background;
    private readonly ActorShape _shape;
    private readonly double _radius;
    private readonly float _actorLevel;
    private readonly float _textureAmplitude;
    private readonly double _textureFrequency;
    private readonly double _texturePhase;

    /// <summary>Creates a scene with a random background and actor appearance drawn from <paramref name="random"/>.</summary>
    public GestureScene(int width, int height, ActorShape shape, double radius, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        _width = width;
        _height = height;
        _shape = shape;
        _radius = radius;
        _background = new float[width * height];
        FillBackground(random);
        bool brighter = random.NextDouble() < 0.6;
        _actorLevel = (float)(brighter ? 0.75 + (0.2 * random.NextDouble()) : 0.06 + (0.08 * random.NextDouble()));
        _textureAmplitude = (float)(0.15 + (0.2 * random.NextDouble()));
        _textureFrequency = 0.25 + (0.3 * random.NextDouble());
        _texturePhase = random.NextDouble() * Math.PI * 2;
    }

    /// <summary>Frame width.</summary>
    public int Width => _width;

    /// <summary>Frame height.</summary>
    public int Height => _height;

    /// <summary>The static background (row-major intensities in [0, 1]).</summary>
    public ReadOnlySpan<float> Background => _background;

    /// <summary>Renders the actor at <paramref name="pose"/> over the background into <paramref name="frame"/>.</summary>
    public void Render(ActorPose pose, Span<float> frame)
    {
        _background.CopyTo(frame);
        double scale = _radius * pose.Scale;
        double reach = scale * 1.6;
        int x0 = Math.Max(0, (int)Math.Floor(pose.X - reach));
        int x1 = Math.Min(_width - 1, (int)Math.Ceiling(pose.X + reach));
        int y0 = Math.Max(0, (int)Math.Floor(pose.Y - reach));
        int y1 = Math.Min(_height - 1, (int)Math.Ceiling(pose.Y + reach));
        double cos = Math.Cos(pose.Angle), sin = Math.Sin(pose.Angle);
        double inv = 1.0 / scale;
        double edge = inv; // one pixel of soft edge, in actor units
        for (int y = y0; y <= y1; y++)
        {
            for (int x = x0; x <= x1; x++)
            {
                double dx = x - pose.X, dy = y - pose.Y;
                // into actor coordinates (unit radius, unrotated)
                double u = ((cos * dx) + (sin * dy)) * inv;
                double v = ((-sin * dx) + (cos * dy)) * inv;
                double d = Distance(u, v);
                if (d >= edge)
                {
                    continue;
                }

                double cover = d <= -edge ? 1.0 : 0.5 - (0.5 * d / edge);
                double texture = Math.Sin((u * _textureFrequency * scale) + _texturePhase) * Math.Cos(v * _textureFrequency * scale * 0.7);
                float level = Math.Clamp(_actorLevel + (_textureAmplitude * (float)texture * (_actorLevel > 0.5f ? -1 : 1)), 0f, 1f);
                int i = (y * _width) + x;
                frame[i] = (float)((cover * level) + ((1 - cover) * frame[i]));
            }
        }
    }

    /// <summary>Approximate signed distance to the actor outline in actor units (negative inside).</summary>
    private double Distance(double u, double v)
    {
        switch (_shape)
        {
            case ActorShape.Disk:
                return Math.Sqrt((u * u) + (v * v)) - 1;
            case ActorShape.Square:
                return Math.Max(Math.Abs(u), Math.Abs(v)) - 0.8;
            case ActorShape.Triangle:
            {
                // equilateral triangle pointing up (v negative is up), circumradius 1
                double k = Math.Sqrt(3);
                double a = (k * u) + v - 1.0;
                double b = (-k * u) + v - 1.0;
                double c = -v - 0.5;
                return Math.Max(Math.Max(a / 2, b / 2), c);
            }

            default:
            {
                // palm: ellipse; fingers: four thin ellipses above it; thumb to the side
                double d = Ellipse(u, v + 0.1, 0.62, 0.55);
                for (int f = 0; f < 4; f++)
                {
                    double fx = -0.42 + (f * 0.28);
                    d = Math.Min(d, Ellipse(u - fx, v + 0.85 + (f is 1 or 2 ? 0.08 : 0), 0.11, 0.42));
                }

                double tu = ((u - 0.7) * 0.8) - ((v + 0.05) * 0.6);
                double tv = ((u - 0.7) * 0.6) + ((v + 0.05) * 0.8);
                return Math.Min(d, Ellipse(tu, tv, 0.12, 0.32));
            }
        }
    }

    private static double Ellipse(double u, double v, double a, double b)
    {
        double q = Math.Sqrt(((u / a) * (u / a)) + ((v / b) * (v / b)));
        return (q - 1) * Math.Min(a, b);
    }

    private void FillBackground(Random random)
    {
        // a few low-frequency gratings plus soft blobs: a static, textured room
        int waves = 4;
        var kx = new double[waves];
        var ky = new double[waves];
        var ph = new double[waves];
        var am = new double[waves];
        for (int k = 0; k < waves; k++)
        {
            double angle = random.NextDouble() * Math.PI;
            double freq = 0.03 + (0.12 * random.NextDouble());
            kx[k] = Math.Cos(angle) * freq;
            ky[k] = Math.Sin(angle) * freq;
            ph[k] = random.NextDouble() * Math.PI * 2;
            am[k] = 0.04 + (0.06 * random.NextDouble());
        }

        double baseLevel = 0.3 + (0.15 * random.NextDouble());
        int blobs = 6;
        var bx = new double[blobs];
        var by = new double[blobs];
        var br = new double[blobs];
        var ba = new double[blobs];
        for (int b = 0; b < blobs; b++)
        {
            bx[b] = random.NextDouble() * _width;
            by[b] = random.NextDouble() * _height;
            br[b] = 4 + (12 * random.NextDouble());
            ba[b] = (random.NextDouble() - 0.5) * 0.3;
        }

        for (int y = 0; y < _height; y++)
        {
            for (int x = 0; x < _width; x++)
            {
                double level = baseLevel;
                for (int k = 0; k < waves; k++)
                {
                    level += am[k] * Math.Sin((kx[k] * x) + (ky[k] * y) + ph[k]);
                }

                for (int b = 0; b < blobs; b++)
                {
                    double dx = x - bx[b], dy = y - by[b];
                    level += ba[b] * Math.Exp(-((dx * dx) + (dy * dy)) / (2 * br[b] * br[b]));
                }

                _background[(y * _width) + x] = (float)Math.Clamp(level, 0.02, 0.98);
            }
        }
    }
}
