using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using EventSnn.Events;

namespace EventSnn.Pipeline.Tests;

public class HandoffTests
{
    private sealed class Item(int value)
    {
        public int Value { get; } = value;

        public int Released;
    }

    private static (Handoff<Item> Handoff, Subject<Item> Source, List<Item> Copies) Make(int capacity, OverflowPolicy policy, CancellationToken ct = default)
    {
        var copies = new List<Item>();
        var subject = new Subject<Item>();
        var handoff = new Handoff<Item>(
            new HandoffOptions { Capacity = capacity, Policy = policy },
            i =>
            {
                var c = new Item(i.Value);
                lock (copies)
                {
                    copies.Add(c);
                }

                return c;
            },
            i => Interlocked.Increment(ref i.Released),
            ct);
        handoff.Connect(subject);
        return (handoff, subject, copies);
    }

    [Fact]
    public void Drop_newest_keeps_the_queue_and_counts_the_rejected()
    {
        var (handoff, source, copies) = Make(2, OverflowPolicy.DropNewest);
        for (int i = 0; i < 5; i++)
        {
            source.OnNext(new Item(i));
        }

        source.OnCompleted();
        Assert.Equal(2, handoff.Written);
        Assert.Equal(3, handoff.DroppedNewest);
        Assert.Equal(0, handoff.DroppedOldest);
        var read = new List<int>();
        while (handoff.Reader.TryRead(out Item? item))
        {
            read.Add(item.Value);
        }

        Assert.Equal([0, 1], read);
        Assert.Equal([0, 0, 1, 1, 1], copies.Select(c => c.Released));
        Assert.True(handoff.Reader.Completion.IsCompleted);
    }

    [Fact]
    public void Drop_oldest_keeps_the_latest_and_counts_the_evicted()
    {
        var (handoff, source, copies) = Make(2, OverflowPolicy.DropOldest);
        for (int i = 0; i < 5; i++)
        {
            source.OnNext(new Item(i));
        }

        Assert.Equal(5, handoff.Written);
        Assert.Equal(3, handoff.DroppedOldest);
        Assert.Equal(3, handoff.Dropped);
        var read = new List<int>();
        while (handoff.Reader.TryRead(out Item? item))
        {
            read.Add(item.Value);
        }

        Assert.Equal([3, 4], read);
        Assert.Equal([1, 1, 1, 0, 0], copies.Select(c => c.Released));
    }

    [Fact]
    public async Task Wait_blocks_the_producer_until_the_consumer_reads_and_loses_nothing()
    {
        var (handoff, source, _) = Make(1, OverflowPolicy.Wait);
        Task producer = Task.Run(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                source.OnNext(new Item(i));
            }

            source.OnCompleted();
        });
        var read = new List<int>();
        await foreach (Item item in handoff.ReadAllAsync())
        {
            read.Add(item.Value);
            await Task.Delay(1);
        }

        await producer;
        Assert.Equal(Enumerable.Range(0, 20), read);
        Assert.Equal(20, handoff.Written);
        Assert.Equal(0, handoff.Dropped);
        Assert.True(handoff.Waits >= 1);
    }

    [Fact]
    public void Dispose_releases_what_is_still_queued()
    {
        var (handoff, source, copies) = Make(4, OverflowPolicy.Wait);
        source.OnNext(new Item(1));
        source.OnNext(new Item(2));
        handoff.Dispose();
        source.OnNext(new Item(3)); // ignored after dispose
        Assert.Equal([1, 1], copies.Select(c => c.Released));
        Assert.False(source.HasObservers);
    }

    [Fact]
    public void Errors_flow_to_the_consumer_after_the_queued_items()
    {
        var (handoff, source, _) = Make(4, OverflowPolicy.Wait);
        source.OnNext(new Item(1));
        source.OnError(new PipelineException("peer:1", 99, "reset"));
        Assert.True(handoff.Reader.TryRead(out Item? first));
        Assert.Equal(1, first.Value);
        var ex = Assert.Throws<AggregateException>(() => handoff.Reader.Completion.Wait());
        Assert.Equal(99, Assert.IsType<PipelineException>(ex.InnerException).Position);
    }

    [Fact]
    public async Task Cancellation_stops_a_blocked_producer_the_source_and_the_consumer_end_to_end()
    {
        using var cts = new CancellationTokenSource();
        FakeDvsReader? reader = null;
        DvsEvent[] events = Ev.Random(5, 200_000, 32, 32, 10);
        var geometry = new SensorGeometry(32, 32);

        // paced replay on a real scheduler -> denoise -> 1 ms frames -> channel of 2 (wait policy)
        using Handoff<TimeStep> handoff = EventReplay.Replay(() => reader = new FakeDvsReader(events, 4096, geometry), new ReplayOptions { Pacing = ReplayPacing.Scaled, Speed = 50 }, TaskPoolScheduler.Default)
            .Denoise(geometry, 1000)
            .ToFrames(geometry, 1000)
            .ToChannel(new HandoffOptions { Capacity = 2 }, cancellation: cts.Token);

        int read = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (TimeStep step in handoff.ReadAllAsync())
            {
                using (step)
                {
                    Assert.Equal(2 * 32 * 32, step.Frame.Length);
                    if (++read == 3)
                    {
                        cts.Cancel();
                    }
                }
            }
        });

        Assert.True(read >= 3);
        // the reader is closed once the replay notices the cancellation
        for (int i = 0; i < 200 && reader?.Disposed != true; i++)
        {
            await Task.Delay(10);
        }

        Assert.True(reader!.Disposed);
        int reads = reader.Reads;
        await Task.Delay(50);
        Assert.Equal(reads, reader.Reads);
    }

    [Fact]
    public void Time_steps_are_copied_into_pooled_steps_the_consumer_owns()
    {
        var options = new TimeStepOptions { Layout = new TimeStepLayout(2, 1, 8) };
        var pool = new TimeStepPool(options);
        DvsEvent[] events = Ev.AtTimes(0, 1, 2, 10, 11, 20, 30);
        using Handoff<TimeStep> handoff = EventReplay.Replay(() => new FakeDvsReader(events), scheduler: ImmediateScheduler.Instance)
            .BinByTime(new TimeWindowOptions { WindowUs = 10 }, options)
            .ToChannel(new HandoffOptions { Capacity = 8 }, pool);
        var counts = new List<int>();
        while (handoff.Reader.TryRead(out TimeStep? step))
        {
            counts.Add(step.EventCount);
            Assert.False(step.Borrowed);
            step.Dispose();
            step.Dispose(); // a second dispose must not return it twice
        }

        Assert.Equal([3, 2, 1], counts);
        Assert.True(pool.Created <= 3);
        TimeStep a = pool.Rent(), b = pool.Rent();
        Assert.NotSame(a, b);
    }

    [Fact]
    public void A_dropped_pool_whose_steps_were_returned_on_another_thread_is_garbage_at_once()
    {
        // steps are rented on the producer's thread and returned on the consumer's; nothing
        // thread-local may keep a dropped pool's steps alive (run's replays drop a pool per file)
        WeakReference step = RentOnAnotherThreadReturnHere();
        GC.Collect();
        Assert.False(step.IsAlive, "a returned step of a dropped pool is still reachable");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference RentOnAnotherThreadReturnHere()
    {
        var pool = new TimeStepPool(new TimeStepOptions { Layout = new TimeStepLayout(2, 1, 8) });
        TimeStep rented = Task.Factory.StartNew(pool.Rent, TaskCreationOptions.LongRunning).GetAwaiter().GetResult();
        rented.Dispose(); // back to the pool, on this thread
        Assert.Same(rented, pool.Rent()); // the pool did keep it
        rented.Dispose();
        return new WeakReference(rented);
    }
}
