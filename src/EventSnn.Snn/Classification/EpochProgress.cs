using System.Text.Json.Nodes;

namespace EventSnn.Snn.Classification;

/// <summary>
/// How far an interrupted epoch got: the batches trained and the running sums of its metrics,
/// kept in a checkpoint's <c>training.progress</c> so that a resumed run continues the epoch from
/// the next batch with the same totals.
/// </summary>
/// <param name="Epoch">The epoch (1-based).</param>
/// <param name="Batch">Samples per batch of the run.</param>
/// <param name="Samples">Training samples per epoch of the run.</param>
internal readonly record struct EpochProgress(int Epoch, int Batch, int Samples)
{
    /// <summary>Batches trained.</summary>
    public int BatchesDone { get; init; }

    /// <summary>Sum of the accepted batches' losses.</summary>
    public double LossSum { get; init; }

    /// <summary>Accepted batches.</summary>
    public int LossCount { get; init; }

    /// <summary>Training samples decided right while learning.</summary>
    public int Correct { get; init; }

    /// <summary>Training samples counted in the accuracy.</summary>
    public int Seen { get; init; }

    /// <summary>Batches rolled back in the epoch.</summary>
    public int Divergences { get; init; }

    /// <summary>Optimiser steps in the epoch.</summary>
    public int Updates { get; init; }

    /// <summary>Training events (non-zero inputs) seen.</summary>
    public long Events { get; init; }

    /// <summary>Wall seconds spent on the epoch.</summary>
    public double Seconds { get; init; }

    /// <summary>Wall seconds spent training in the epoch.</summary>
    public double TrainSeconds { get; init; }

    public JsonObject ToJson() => new()
    {
        ["epoch"] = Epoch,
        ["batch"] = Batch,
        ["samples"] = Samples,
        ["batches_done"] = BatchesDone,
        ["loss_sum"] = LossSum,
        ["loss_count"] = LossCount,
        ["correct"] = Correct,
        ["seen"] = Seen,
        ["divergences"] = Divergences,
        ["updates"] = Updates,
        ["events"] = Events,
        ["seconds"] = Seconds,
        ["train_seconds"] = TrainSeconds,
    };

    /// <summary>Reads <see cref="ToJson"/>'s object; throws when a field is missing or out of range.</summary>
    public static EpochProgress FromJson(JsonObject o)
    {
        var p = new EpochProgress(Int(o, "epoch"), Int(o, "batch"), Int(o, "samples"))
        {
            BatchesDone = Int(o, "batches_done"),
            LossSum = Number(o, "loss_sum"),
            LossCount = Int(o, "loss_count"),
            Correct = Int(o, "correct"),
            Seen = Int(o, "seen"),
            Divergences = Int(o, "divergences"),
            Updates = Int(o, "updates"),
            Events = o["events"]?.GetValue<long>() ?? throw new FormatException("events is missing"),
            Seconds = Number(o, "seconds"),
            TrainSeconds = Number(o, "train_seconds"),
        };
        if (p.Epoch < 1 || p.Batch < 1 || p.Samples < 1 || p.BatchesDone < 0 || p.BatchesDone >= ((long)p.Samples + p.Batch - 1) / p.Batch)
        {
            throw new FormatException($"epoch {p.Epoch}, batch {p.Batch}, samples {p.Samples}, batches done {p.BatchesDone} do not fit together");
        }

        return p;
    }

    private static int Int(JsonObject o, string name) => o[name]?.GetValue<int>() ?? throw new FormatException(name + " is missing");

    private static double Number(JsonObject o, string name) => o[name]?.GetValue<double>() ?? throw new FormatException(name + " is missing");
}
