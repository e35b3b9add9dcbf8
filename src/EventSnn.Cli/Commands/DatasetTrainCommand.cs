namespace EventSnn.Cli.Commands;

/// <summary>
/// <c>eventsnn dataset train</c>: exactly <c>eventsnn train</c> (the same options, defaults,
/// per-epoch lines and JSON summary) plus the per-class evaluation of the final model on the
/// test split; no checkpoint unless --checkpoint is given.
/// </summary>
internal sealed class DatasetTrainCommand : Command
{
    private static readonly TrainCommand Train = new();

    public override string Name => "dataset train";

    public override string Summary => "train with the train command's recipe on a dataset folder and evaluate the final model on its test split (per class); a checkpoint only with --checkpoint";

    public override string Arguments => "<dir>";

    public override IReadOnlyList<OptionSpec> Options => Train.Options;

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr) =>
        TrainCommand.Run(args, stdout, stderr, defaultCheckpoint: null, evaluate: true);
}
