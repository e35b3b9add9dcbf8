using System.Reactive.Linq;
using EventSnn.Events;
using EventSnn.Transforms;

namespace EventSnn.Pipeline;

public static partial class EventPipeline
{
    /// <summary>
    /// Training-time augmentation of labelled DVS samples (the <see cref="Augmenter"/> the offline
    /// trainer uses): every sample's events are transformed (shifted, thinned, jittered, flipped,
    /// noised...), seeded by <paramref name="seed"/>, <paramref name="epoch"/> and the sample's
    /// index, so a replay pass sees the same variants whatever the timing. The augmented sample is
    /// written to the operator's own buffer and passed on (borrowed: valid during OnNext);
    /// <see cref="Augmentation.None"/> passes samples through unchanged.
    /// </summary>
    public static IObservable<LabelledSample> Augment(this IObservable<LabelledSample> source, Augmentation augmentation, int width, int height, long seed, int epoch)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(augmentation);
        if (augmentation.IsNone)
        {
            return source;
        }

        return Observable.Create<LabelledSample>(observer =>
        {
            var augmenter = new Augmenter(augmentation, new SensorGeometry(width, height));
            var copy = new LabelledSample(new EventBuffer());
            return Subscribe(source, observer, copy, sample =>
            {
                AugmentInto(augmenter, sample, copy, Augmenter.SeedFor(seed, epoch, sample.Index), sample.Augmented);
                observer.OnNext(copy);
            });
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
            var augmenter = new Augmenter(augmentation, new SensorGeometry(width, height));
            var copy = new LabelledSample(new EventBuffer());
            return Subscribe(source, observer, copy, sample =>
            {
                observer.OnNext(sample);
                for (int k = 0; k < copies; k++)
                {
                    AugmentInto(augmenter, sample, copy, Augmenter.SeedFor(seed, (epoch * copies) + k, sample.Index), augmented: true);
                    observer.OnNext(copy);
                }
            });
        });
    }

    /// <summary>Writes <paramref name="sample"/> augmented into <paramref name="copy"/> (label and span copied).</summary>
    private static void AugmentInto(Augmenter augmenter, LabelledSample sample, LabelledSample copy, ulong seed, bool augmented)
    {
        EventBatch from = sample.Events;
        copy.Buffer.Clear();
        copy.Buffer.Reserve(augmenter.MaxOutputCount(from.Count));
        augmenter.Apply(from, copy.Events, seed);
        copy.Label = sample.Label;
        copy.Index = sample.Index;
        copy.StartUs = sample.StartUs;
        copy.EndUs = sample.EndUs;
        copy.Augmented = augmented;
    }

    /// <summary>Subscribes <paramref name="onNext"/> to <paramref name="source"/>; the copy's buffer is released once, on completion or disposal.</summary>
    private static IDisposable Subscribe(IObservable<LabelledSample> source, IObserver<LabelledSample> observer, LabelledSample copy, Action<LabelledSample> onNext)
    {
        var released = 0;
        void Release()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                copy.Buffer.Dispose();
            }
        }

        IDisposable subscription = source.Subscribe(
            onNext,
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
    }
}
