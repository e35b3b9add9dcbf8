using System.Text;
using EventSnn.IO;

namespace EventSnn.Datasets;

/// <summary>
/// A dataset folder's class names: <c>classes.txt</c>, one name per line in label order (the
/// first line names class 0, which a 1-based label file calls class 1). The generators write it;
/// loaders, <c>run</c>, <c>classify</c> and the trainers read it, so class names come from the
/// data and not from the code that generated it.
/// </summary>
public static class ClassNamesFile
{
    /// <summary>File name inside the dataset folder.</summary>
    public const string FileName = "classes.txt";

    /// <summary>Largest file read (1 MiB).</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>The names in <paramref name="folder"/>'s <see cref="FileName"/>, or null when the folder has none.</summary>
    /// <exception cref="EventFormatException">The file is larger than <see cref="MaxBytes"/>, or a line is empty or repeats an earlier name.</exception>
    public static IReadOnlyList<string>? Read(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        long length = new FileInfo(path).Length;
        if (length > MaxBytes)
        {
            throw new EventFormatException(path, 0, $"a class-name file of {length} bytes is larger than the {MaxBytes} bytes read");
        }

        string text = Encoding.UTF8.GetString(File.ReadAllBytes(path)).TrimStart('\uFEFF').TrimEnd('\r', '\n');
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        foreach (string raw in text.Split('\n'))
        {
            string name = raw.TrimEnd('\r').Trim();
            if (name.Length == 0)
            {
                throw new EventFormatException(path, offset, $"line {names.Count + 1} is empty (one class name per line)", "name");
            }

            if (!seen.Add(name))
            {
                throw new EventFormatException(path, offset, $"line {names.Count + 1}: '{name}' names an earlier class again", "name");
            }

            names.Add(name);
            offset += Encoding.UTF8.GetByteCount(raw) + 1;
        }

        return names;
    }

    /// <summary>
    /// The names of <paramref name="classes"/> classes for <paramref name="folder"/>: its file's
    /// names when it lists at least that many, else <paramref name="fallback"/> when it has that
    /// many, else the label numbers counted from <paramref name="firstLabel"/>.
    /// </summary>
    public static string[] For(string folder, int classes, IReadOnlyList<string>? fallback = null, int firstLabel = 0)
    {
        IReadOnlyList<string>? names = Read(folder);
        if (names is null || names.Count < classes)
        {
            names = fallback is not null && fallback.Count == classes ? fallback : null;
        }

        var result = new string[Math.Max(0, classes)];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = names is not null ? names[i] : (i + firstLabel).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return result;
    }

    /// <summary>Writes <paramref name="names"/> into <paramref name="folder"/>'s <see cref="FileName"/>.</summary>
    public static void Write(string folder, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(names);
        var text = new StringBuilder();
        foreach (string n in names)
        {
            text.Append(n).Append('\n');
        }

        File.WriteAllText(Path.Combine(folder, FileName), text.ToString());
    }
}
