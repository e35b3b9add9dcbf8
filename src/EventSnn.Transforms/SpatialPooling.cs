namespace EventSnn.Transforms;

/// <summary>
/// Spatial pooling of a DVS sensor (Tonic's Downsample with an integer factor): pixel (x, y) of a
/// <see cref="Width"/> x <see cref="Height"/> sensor falls into cell (y / p) x ⌈W / p⌉ + x / p;
/// pixels outside the sensor into cell -1 (dropped). Immutable.
/// </summary>
public sealed class SpatialPooling
{
    /// <summary>Creates the pooling of a <paramref name="width"/> x <paramref name="height"/> sensor by <paramref name="factor"/>.</summary>
    public SpatialPooling(int width, int height, int factor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        Width = width;
        Height = height;
        Factor = factor;
        PooledWidth = (int)(((long)width + factor - 1) / factor);
        PooledHeight = (int)(((long)height + factor - 1) / factor);
    }

    /// <summary>Sensor width.</summary>
    public int Width { get; }

    /// <summary>Sensor height.</summary>
    public int Height { get; }

    /// <summary>Pooling factor p (p x p pixels per cell).</summary>
    public int Factor { get; }

    /// <summary>Columns of the pooled grid.</summary>
    public int PooledWidth { get; }

    /// <summary>Rows of the pooled grid.</summary>
    public int PooledHeight { get; }

    /// <summary>Cells of the pooled grid.</summary>
    public int Cells => PooledWidth * PooledHeight;

    /// <summary>
    /// Writes the cell of every event (x[i], y[i]) to <paramref name="cells"/>[i] (-1 outside the
    /// sensor); returns how many fell outside.
    /// </summary>
    public int Apply(ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, Span<int> cells)
    {
        if (y.Length != x.Length || cells.Length < x.Length)
        {
            throw new ArgumentException("x, y and cells must have matching lengths");
        }

        uint w = (uint)Width, h = (uint)Height;
        int p = Factor, pw = PooledWidth;
        int outside = 0;
        for (int i = 0; i < x.Length; i++)
        {
            uint xi = x[i], yi = y[i];
            if (xi >= w || yi >= h)
            {
                cells[i] = -1;
                outside++;
                continue;
            }

            cells[i] = p == 1 ? (int)((yi * w) + xi) : ((int)yi / p * pw) + ((int)xi / p);
        }

        return outside;
    }
}
