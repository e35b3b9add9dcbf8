using System.Text.Json;

namespace EventSnn.Cluster;

/// <summary>A decision as one JSON object with the fields of <c>classify --json</c> (plus the silo that made it).</summary>
public static class DecisionJson
{
    /// <summary>UTF-8 JSON of <paramref name="d"/>.</summary>
    public static byte[] ToUtf8(ClusterDecision d, string silo)
    {
        ArgumentNullException.ThrowIfNull(d);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("t_us", d.EndUs);
            w.WriteNumber("start_us", d.StartUs);
            w.WriteString("stream", d.Stream);
            w.WriteString("label", d.Label);
            w.WriteNumber("label_index", d.LabelIndex);
            w.WriteNumber("confidence", Math.Round(d.Confidence, 4));
            w.WriteNumber("latency_ms", Math.Round(d.LatencyMs, 4));
            if (d.Truth is null)
            {
                w.WriteNull("truth");
            }
            else
            {
                w.WriteString("truth", d.Truth);
            }

            w.WriteNumber("truth_index", d.TruthIndex);
            w.WriteBoolean("correct", d.Correct);
            w.WriteNumber("decision", d.Decision);
            w.WriteNumber("sample", d.Decision);
            w.WriteNumber("steps", d.Steps);
            w.WriteNumber("events", d.Events);
            w.WriteString("silo", silo);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
