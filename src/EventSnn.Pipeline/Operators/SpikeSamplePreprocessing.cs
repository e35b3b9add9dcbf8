using System.Reactive.Linq;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

public static partial class EventPipeline
{
    /// <summary>
    /// The network's input of labelled spike samples (<see cref="EventReplay.ReplayShdSamples"/>):
    /// every sample runs through the chain of <paramref name="preprocessing"/> from its start (its
    /// time 0), as the SHD loader does offline; its steps carry its label and index, the last has
    /// <see cref="TimeStep.EndsSample"/>. Steps are borrowed.
    /// </summary>
    public static IObservable<TimeStep> Preprocess(this IObservable<SpikeSample> source, Preprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(preprocessing);
        preprocessing.Validate();
        return Observable.Create<TimeStep>(observer => new SpikeSampleSink(observer, preprocessing).Run(source));
    }

    private sealed class SpikeSampleSink : OperatorSink<SpikeSample, TimeStep>
    {
        private readonly Preprocessor _chain;
        private readonly TimeStep _scratch;
        private SpikeSample? _current;

        public SpikeSampleSink(IObserver<TimeStep> downstream, Preprocessing preprocessing)
            : base(downstream)
        {
            _scratch = new TimeStep(new TimeStepOptions { Layout = TimeStepLayout.For(preprocessing) }, null, borrowed: true);
            _chain = new Preprocessor(preprocessing, Emit);
        }

        protected override void OnNextCore(SpikeSample value)
        {
            _current = value;
            _chain.BeginSample(value.StartUs);
            _chain.Push(value.Spikes);
            _chain.EndSample();
            _current = null;
        }

        protected override void ReleaseResources() => _scratch.Release();

        private void Emit(BinnedStep step)
        {
            _scratch.Load(step);
            _scratch.Label = _current!.Label;
            _scratch.Sample = _current.Index;
            Downstream.OnNext(_scratch);
        }
    }
}
