using System.Reactive.Linq;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

public static partial class EventPipeline
{
    /// <summary>
    /// Training-time augmentation of labelled DVS samples (the transform of <see cref="Augmenter"/>,
    /// the one the offline trainer uses): every sample's events are shifted, thinned or flipped in
    /// place, seeded by <paramref name="seed"/>, <paramref name="epoch"/> and the sample's index, so a
    /// replay pass sees the same variants whatever the timing. <see cref="Augmentation.None"/> passes
    /// samples through unchanged. Samples are borrowed.
    /// </summary>
    public static IObservable<LabelledSample> Augment(this IObservable<LabelledSample> source, Augmentation augmentation, int width, int height, long seed, int epoch)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(augmentation);
        if (augmentation.IsNone)
        {
            return source;
        }

        return source.Select(sample =>
        {
            EventSnn.Events.EventBatch events = sample.Events;
            int kept = Augmenter.Apply(augmentation, width, height, events.Timestamps, events.Xs, events.Ys, events.Polarities, Augmenter.SeedFor(seed, epoch, sample.Index));
            events.SetCount(kept);
            return sample;
        });
    }

    /// <summary>
    /// Test-then-train with augmentation: every sample passes through unchanged, followed by
    /// <paramref name="copies"/> augmented copies of it (<see cref="LabelledSample.Augmented"/> set;
    /// copy k seeded by the seed, epoch·copies + k and the sample's index), so a consumer decides
    /// on the real sample and learns from it and from its variants. Samples are borrowed.
    /// </summary>
    public static IObservable<LabelledSample> AugmentCopies(this IObservable<LabelledSample> source, Augmentation augmentation, int width, int height, long seed, int epoch, int copies = 1)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(augmentation);
        ArgumentOutOfRangeException.ThrowIfNegative(copies);
        if (augmentation.IsNone || copies == 0)
        {
            return source;
        }

        return Observable.Create<LabelledSample>(observer =>
        {
            var copy = new LabelledSample(new EventBuffer());
            var released = 0;
            void Release()
            {
                if (Interlocked.Exchange(ref released, 1) == 0)
                {
                    copy.Buffer.Dispose();
                }
            }

            IDisposable subscription = source.Subscribe(
                sample =>
                {
                    observer.OnNext(sample);
                    EventSnn.Events.EventBatch from = sample.Events;
                    for (int k = 0; k < copies; k++)
                    {
                        copy.Buffer.Clear();
                        copy.Buffer.Append(from, 0, from.Count);
                        copy.Label = sample.Label;
                        copy.Index = sample.Index;
                        copy.StartUs = sample.StartUs;
                        copy.EndUs = sample.EndUs;
                        copy.Augmented = true;
                        EventSnn.Events.EventBatch events = copy.Events;
                        int kept = Augmenter.Apply(augmentation, width, height, events.Timestamps, events.Xs, events.Ys, events.Polarities, Augmenter.SeedFor(seed, (epoch * copies) + k, sample.Index));
                        events.SetCount(kept);
                        observer.OnNext(copy);
                    }
                },
                observer.OnError,
                () =>
                {
                    observer.OnCompleted();
                    Release();
                });
            return System.Reactive.Disposables.Disposable.Create(() =>
            {
                subscription.Dispose();
                Release();
            });
        });
    }
}
