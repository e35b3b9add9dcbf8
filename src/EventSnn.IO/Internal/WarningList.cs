namespace EventSnn.IO.Internal;

/// <summary>A bounded list of warnings: keeps the first <c>limit</c> and counts the rest.</summary>
internal sealed class WarningList : List<FormatWarning>
{
    private readonly int _limit;

    public WarningList(int limit = 100) => _limit = limit;

    /// <summary>Warnings not kept because the list was full.</summary>
    public long Suppressed { get; private set; }

    public void Warn(long offset, string message)
    {
        if (Count < _limit)
        {
            Add(new FormatWarning(offset, message));
        }
        else
        {
            Suppressed++;
        }
    }
}
