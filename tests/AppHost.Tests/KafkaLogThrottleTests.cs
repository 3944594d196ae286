using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace CustomerData.AppHost.Tests;

public sealed class KafkaLogThrottleTests
{
    [Fact]
    public void Repeats_within_the_window_are_held_back_and_counted_on_the_next_line()
    {
        var time = new FakeTimeProvider();
        var throttle = new KafkaLogThrottle(time);

        Assert.True(throttle.ShouldLog("error:Local_Transport", out var first));
        Assert.False(throttle.ShouldLog("error:Local_Transport", out _));
        Assert.False(throttle.ShouldLog("error:Local_Transport", out _));
        Assert.True(throttle.ShouldLog("error:Local_AllBrokersDown", out _)); // another kind is not held back
        time.Advance(KafkaLogThrottle.Window);
        Assert.True(throttle.ShouldLog("error:Local_Transport", out var afterWindow));

        Assert.Equal(0, first);
        Assert.Equal(2, afterWindow);
    }
}
