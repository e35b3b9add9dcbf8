using System.Reactive.Linq;
using Microsoft.Reactive.Testing;

namespace EventSnn.Pipeline.Tests;

public class TestSchedulerBindingTests
{
    [Fact]
    public void TestScheduler_drives_System_Reactive_6_timers()
    {
        var scheduler = new TestScheduler();
        ITestableObserver<long> observer = scheduler.Start(
            () => Observable.Interval(TimeSpan.FromTicks(100), scheduler).Take(3),
            created: 50, subscribed: 100, disposed: 1000);
        Assert.Equal(
            [200L, 300L, 400L, 400L],
            observer.Messages.Select(m => m.Time).ToArray());
        Assert.Equal(typeof(Observable).Assembly, typeof(TestScheduler).BaseType!.BaseType!.Assembly);
    }
}
