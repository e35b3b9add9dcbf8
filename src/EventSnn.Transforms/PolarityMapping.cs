namespace EventSnn.Transforms;

/// <summary>
/// Polarity handling (Tonic's MergePolarities and polarity filters): maps a pooled cell and the
/// event's polarity to a feature index. <see cref="PolarityMode.Split"/>: polarity x cells + cell
/// (0 = OFF, 1 = ON); <see cref="PolarityMode.Merge"/>: cell; <see cref="PolarityMode.On"/> /
/// <see cref="PolarityMode.Off"/>: cell for that polarity, -1 (dropped) for the other. Immutable.
/// </summary>
public sealed class PolarityMapping
{
    /// <summary>Creates the mapping for <paramref name="cells"/> cells per plane.</summary>
    public PolarityMapping(PolarityMode mode, int cells)
    {
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(cells, 1);
        Mode = mode;
        Cells = cells;
    }

    /// <summary>The mode.</summary>
    public PolarityMode Mode { get; }

    /// <summary>Cells per plane.</summary>
    public int Cells { get; }

    /// <summary>Features: 2 x cells when split, else cells.</summary>
    public int Features => Mode == PolarityMode.Split ? 2 * Cells : Cells;

    /// <summary>The feature of one event (cell -1 stays -1).</summary>
    public static int Feature(PolarityMode mode, byte polarity, int cell, int cells)
    {
        if (cell < 0)
        {
            return -1;
        }

        bool on = polarity != 0;
        return mode switch
        {
            PolarityMode.Split => on ? cells + cell : cell,
            PolarityMode.Merge => cell,
            PolarityMode.On => on ? cell : -1,
            _ => on ? -1 : cell,
        };
    }

    /// <summary>
    /// Turns the cells of events (in place) into features, using their polarities (1 = ON); returns
    /// how many events the mode dropped (cells already -1 are not counted again).
    /// </summary>
    public int Apply(ReadOnlySpan<byte> polarity, Span<int> cells)
    {
        if (polarity.Length < cells.Length)
        {
            throw new ArgumentException("polarity is shorter than cells", nameof(polarity));
        }

        int plane = Cells;
        int dropped = 0;
        switch (Mode)
        {
            case PolarityMode.Split:
                for (int i = 0; i < cells.Length; i++)
                {
                    int c = cells[i];
                    if (c >= 0 && polarity[i] != 0)
                    {
                        cells[i] = c + plane;
                    }
                }

                break;
            case PolarityMode.Merge:
                break;
            default:
                byte keep = Mode == PolarityMode.On ? (byte)1 : (byte)0;
                for (int i = 0; i < cells.Length; i++)
                {
                    if (cells[i] >= 0 && (polarity[i] != 0 ? (byte)1 : (byte)0) != keep)
                    {
                        cells[i] = -1;
                        dropped++;
                    }
                }

                break;
        }

        return dropped;
    }
}
