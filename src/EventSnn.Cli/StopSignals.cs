using System.Runtime.InteropServices;

namespace EventSnn.Cli;

/// <summary>
/// Cancels a token on Ctrl-C and SIGTERM while alive: the first signal requests a graceful stop
/// (finish the chunk, save, exit 130); a second one terminates the process as usual.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration? _term;
    private readonly ConsoleCancelEventHandler _onCancel;

    public StopSignals()
    {
        _onCancel = (_, e) =>
        {
            e.Cancel = !_cancel.IsCancellationRequested;
            _cancel.Cancel();
        };
        Console.CancelKeyPress += _onCancel;
        _term = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = !_cancel.IsCancellationRequested;
            _cancel.Cancel();
        });
    }

    public CancellationToken Token => _cancel.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= _onCancel;
        _term?.Dispose();
        _cancel.Dispose();
    }
}
