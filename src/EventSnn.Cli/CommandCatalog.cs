namespace EventSnn.Cli;

/// <summary>Every command of the tool, in help order.</summary>
internal static class CommandCatalog
{
    public static IReadOnlyList<Command> All() =>
    [
        new Commands.DatasetMakeCommand(),
        new Commands.DatasetBaselineCommand(),
        new Commands.DatasetTrainCommand(),
    ];
}
