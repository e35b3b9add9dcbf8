namespace EventSnn.IO.Internal;

/// <summary>File opening shared by the readers and writers.</summary>
internal static class ReaderFiles
{
    /// <summary>Opens a file for sequential reading without FileStream buffering (ByteInput buffers).</summary>
    public static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
    }

    /// <summary>Creates (or truncates) a file for sequential writing without FileStream buffering (writers buffer).</summary>
    public static FileStream Create(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
    }
}
