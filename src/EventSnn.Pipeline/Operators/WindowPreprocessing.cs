using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

public static partial class EventPipeline
{
    /// <summary>
    /// The network's input of a continuous DVS stream: windows of <paramref name="windowUs"/>
    /// (aligned to the first kept event; empty windows skipped), each a sample of the chain of
    /// <paramref name="preprocessing"/> (<see cref="WindowedPreprocessor"/>, as <c>serve</c> uses it);
    /// steps carry the window's index as their sample, the last step of a window has
    /// <see cref="TimeStep.EndsSample"/>. The open window is ended when the stream completes. Steps are borrowed.
    /// </summary>
    public static IObservable<TimeStep> PreprocessWindows(this IObservable<EventBatch> source, Preprocessing preprocessing, long windowUs)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowUs, 1);
        preprocessing.Validate();
        return Observable.Create<TimeStep>(observer => new WindowSink(observer, preprocessing, windowUs).Run(source));
    }

    private sealed class WindowSink : OperatorSink<EventBatch, TimeStep>
    {
        private readonly WindowedPreprocessor _windows;
        private readonly TimeStep _scratch;

        public WindowSink(IObserver<TimeStep> downstream, Preprocessing preprocessing, long windowUs)
            : base(downstream)
        {
            _scratch = new TimeStep(new TimeStepOptions { Layout = TimeStepLayout.For(preprocessing) }, null, borrowed: true);
            _windows = new WindowedPreprocessor(preprocessing, windowUs, Emit);
        }

        protected override void OnNextCore(EventBatch value) => _windows.Push(value);

        protected override void OnCompletedCore() => _windows.Flush();

        protected override void ReleaseResources() => _scratch.Release();

        private void Emit(BinnedStep step)
        {
            _scratch.Load(step);
            _scratch.Sample = step.Sample;
            Downstream.OnNext(_scratch);
        }
    }
}
