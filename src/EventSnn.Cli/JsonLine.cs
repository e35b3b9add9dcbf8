using System.Text;
using System.Text.Json;

namespace EventSnn.Cli;

/// <summary>Writes one JSON object as a single line (for --json output).</summary>
public static class JsonLine
{
    private static readonly JsonWriterOptions Options = new() { Indented = false, SkipValidation = false };

    /// <summary>Builds one JSON object with <paramref name="build"/> and writes it as a line.</summary>
    public static void Write(TextWriter output, Action<Utf8JsonWriter> build)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(build);
        output.WriteLine(ToString(build));
    }

    /// <summary>Builds one JSON object with <paramref name="build"/> and returns it.</summary>
    public static string ToString(Action<Utf8JsonWriter> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, Options))
        {
            w.WriteStartObject();
            build(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
    }
}
