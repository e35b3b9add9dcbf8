using EventSnn.Cli.Commands;

namespace EventSnn.Cli;

/// <summary>Every command of the tool, in help order.</summary>
internal static class CommandCatalog
{
    public static IReadOnlyList<Command> All() =>
    [
        new RunCommand(),
        new InspectCommand(),
        new ConvertCommand(),
        new RenderCommand(),
        new BenchDecodeCommand(),
        new DatasetMakeCommand(),
        new DatasetBaselineCommand(),
        new DatasetTrainCommand(),
        new BenchPipelineCommand(),
        new BenchStepCommand(),
        new BenchBackendsCommand(),
        new BenchSoakCommand(),
        new BenchClusterCommand(),
        new ReproAddingCommand(),
        new ReproSmnistCommand(),
        new ReproCompareCommand(),
        new TrainCommand(),
        new EvalCommand(),
        new ClassifyCommand(),
        new ServeCommand(),
        new SendCommand(),
        new ClusterSiloCommand(),
        new ClusterPublishCommand(),
        new ClusterWatchCommand(),
        new ClusterStatusCommand(),
    ];
}
