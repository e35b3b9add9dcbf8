using System.Globalization;
using System.Text.Json;
using EventSnn.Snn.Classification;
using Spectre.Console;

namespace EventSnn.Cli.Run;

/// <summary>Numbers of one stream at the end of the main job.</summary>
internal sealed record StreamSummary(
    string Stream,
    int Classes,
    long Events,
    long Steps,
    int Decisions,
    double Accuracy,
    double FirstHalf,
    double SecondHalf,
    double HeldOut,
    int HeldOutDecisions,
    double Chance,
    double MeanLatencyMs,
    double P99LatencyMs,
    string Method,
    long Updates,
    int Divergences,
    long DroppedSteps,
    double Seconds);

/// <summary>The summary of the main job: accuracy over time, per stream and overall.</summary>
internal sealed record RunSummary(
    long Events,
    int Decisions,
    double Accuracy,
    double FirstHalf,
    double SecondHalf,
    double Chance,
    double Seconds,
    bool Interrupted,
    IReadOnlyList<StreamSummary> Streams,
    IReadOnlyList<string> Plots,
    IReadOnlyList<string> Checkpoints,
    string DecisionLog)
{
    public static RunSummary From(IReadOnlyList<StreamRunner> streams, double seconds, bool interrupted, IReadOnlyList<string> plots, IReadOnlyList<string> checkpoints, string log)
    {
        var per = new List<StreamSummary>();
        long decisions = 0, correct = 0, firstN = 0, firstCorrect = 0, secondN = 0, secondCorrect = 0;
        double chanceSum = 0;
        long events = 0;
        foreach (StreamRunner s in streams)
        {
            ClassificationTally t = s.Tally;
            (int n1, int c1) = t.Half(first: true);
            (int n2, int c2) = t.Half(first: false);
            double[] latencies = [.. s.Decisions.Select(x => x.LatencyMs)];
            per.Add(new StreamSummary(
                s.Name,
                s.Classes,
                s.Events,
                s.StepsProcessed,
                (int)t.Decisions,
                t.Accuracy,
                t.AccuracyFirstHalf,
                t.AccuracySecondHalf,
                s.HeldOut.Accuracy,
                (int)s.HeldOut.Labelled,
                1.0 / s.Classes,
                latencies.Length == 0 ? 0 : latencies.Average(),
                latencies.Length == 0 ? 0 : MathNet.Numerics.Statistics.Statistics.QuantileCustom(latencies, 0.99, MathNet.Numerics.Statistics.QuantileDefinition.EmpiricalInvCDF),
                SequenceTrainingMethods.Name(s.Classifier.Options.Recipe.Method),
                s.Classifier.Updates,
                s.Classifier.Divergences,
                s.DroppedSteps,
                s.Seconds));
            decisions += t.Labelled;
            correct += t.Correct;
            firstN += n1;
            firstCorrect += c1;
            secondN += n2;
            secondCorrect += c2;
            chanceSum += t.Labelled / (double)s.Classes;
            events += s.Events;
        }

        return new RunSummary(events, (int)decisions, Ratio(correct, decisions), Ratio(firstCorrect, firstN), Ratio(secondCorrect, secondN), decisions == 0 ? 0 : chanceSum / decisions, seconds, interrupted, per, plots, checkpoints, log);
    }

    /// <summary>The summary as one JSON line (<c>{"summary":{...}}</c>; ratios rounded to 4 decimals, seconds to 2).</summary>
    public string ToJsonLine()
    {
        var streams = new RunStreamJson[Streams.Count];
        for (int i = 0; i < streams.Length; i++)
        {
            StreamSummary s = Streams[i];
            streams[i] = new RunStreamJson(
                s.Stream,
                s.Classes,
                s.Events,
                s.Steps,
                s.Decisions,
                Math.Round(s.Accuracy, 4),
                Math.Round(s.FirstHalf, 4),
                Math.Round(s.SecondHalf, 4),
                Math.Round(s.HeldOut, 4),
                s.HeldOutDecisions,
                Math.Round(s.Chance, 4),
                Math.Round(s.MeanLatencyMs, 4),
                Math.Round(s.P99LatencyMs, 4),
                s.Method,
                s.Updates,
                s.Divergences,
                s.DroppedSteps,
                Math.Round(s.Seconds, 2));
        }

        var summary = new RunSummaryJson(
            Events,
            Decisions,
            Math.Round(Accuracy, 4),
            Math.Round(FirstHalf, 4),
            Math.Round(SecondHalf, 4),
            Math.Round(Chance, 4),
            Math.Round(Seconds, 2),
            Interrupted,
            Plots,
            Checkpoints,
            DecisionLog,
            streams);
        return JsonSerializer.Serialize(new RunSummaryLine(summary), CliJsonContext.Default.RunSummaryLine);
    }

    public void Print(TextWriter stdout, bool rich)
    {
        if (rich)
        {
            var table = new Table().Title("eventsnn run — summary");
            foreach (string c in (string[])["stream", "decisions", "accuracy", "1st half", "2nd half", "held-out", "chance", "latency p99", "updates", "divergences", "events"])
            {
                table.AddColumn(c);
            }

            foreach (StreamSummary s in Streams)
            {
                table.AddRow(s.Stream, N(s.Decisions), P(s.Accuracy), P(s.FirstHalf), P(s.SecondHalf), P(s.HeldOut), P(s.Chance), F(s.P99LatencyMs) + " ms", N(s.Updates), N(s.Divergences), N(s.Events));
            }

            table.AddRow("all", N(Decisions), P(Accuracy), P(FirstHalf), P(SecondHalf), string.Empty, P(Chance), string.Empty, string.Empty, string.Empty, N(Events));
            AnsiConsole.Write(table);
        }
        else
        {
            stdout.WriteLine();
            stdout.WriteLine("summary");
            foreach (StreamSummary s in Streams)
            {
                stdout.WriteLine($"  {s.Stream}: {N(s.Decisions)} decisions, accuracy {P(s.Accuracy)} (first half {P(s.FirstHalf)}, second half {P(s.SecondHalf)}, held-out {P(s.HeldOut)} of {s.HeldOutDecisions}), chance {P(s.Chance)}, latency p99 {F(s.P99LatencyMs)} ms, {N(s.Updates)} {s.Method} updates, {s.Divergences} divergences rolled back, {N(s.Events)} events, {F(s.Seconds)} s");
            }

            stdout.WriteLine($"  all: {N(Decisions)} decisions, accuracy {P(Accuracy)} (first half {P(FirstHalf)}, second half {P(SecondHalf)}), chance {P(Chance)}, {N(Events)} events, {F(Seconds)} s{(Interrupted ? ", interrupted" : string.Empty)}");
        }

        stdout.WriteLine("plots: " + string.Join(", ", Plots));
        stdout.WriteLine("checkpoints: " + string.Join(", ", Checkpoints));
        stdout.WriteLine("decisions: " + DecisionLog);
    }

    private static double Ratio(long a, long b) => b == 0 ? 0 : a / (double)b;

    private static string P(double v) => v.ToString("P1", CultureInfo.InvariantCulture);

    private static string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
}
