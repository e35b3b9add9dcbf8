using System.Reactive.Linq;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

public static partial class EventPipeline
{
    /// <summary>
    /// The network's input of labelled DVS samples: every sample (e.g. a gesture cut by
    /// <see cref="CutByLabels"/>) runs through the chain of <paramref name="preprocessing"/> as a
    /// sample over [StartUs, EndUs) — the same chain the dataset loaders use offline — and its
    /// steps carry its label and index; the last has <see cref="TimeStep.EndsSample"/>. Steps are borrowed.
    /// </summary>
    public static IObservable<TimeStep> Preprocess(this IObservable<LabelledSample> source, Preprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(preprocessing);
        preprocessing.Validate();
        return Observable.Create<TimeStep>(observer => new LabelledSampleSink(observer, preprocessing).Run(source));
    }

    private sealed class LabelledSampleSink : OperatorSink<LabelledSample, TimeStep>
    {
        private readonly Preprocessor _chain;
        private readonly TimeStep _scratch;
        private LabelledSample? _current;

        public LabelledSampleSink(IObserver<TimeStep> downstream, Preprocessing preprocessing)
            : base(downstream)
        {
            _scratch = new TimeStep(new TimeStepOptions { Layout = TimeStepLayout.For(preprocessing) }, null, borrowed: true);
            _chain = new Preprocessor(preprocessing, Emit);
        }

        protected override void OnNextCore(LabelledSample value)
        {
            _current = value;
            _chain.BeginSample(value.StartUs, value.EndUs);
            _chain.Push(value.Events);
            _chain.EndSample();
            _current = null;
        }

        protected override void ReleaseResources() => _scratch.Release();

        private void Emit(BinnedStep step)
        {
            _scratch.Load(step);
            _scratch.Label = _current!.Label;
            _scratch.Sample = _current.Index;
            _scratch.Augmented = _current.Augmented;
            Downstream.OnNext(_scratch);
        }
    }
}
