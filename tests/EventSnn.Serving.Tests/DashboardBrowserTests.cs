using System.Net;
using System.Net.Sockets;
using EventSnn.Events;
using EventSnn.Snn.Classification;
using EventSnn.Testing;
using Microsoft.Playwright;

namespace EventSnn.Serving.Tests;

/// <summary>
/// The live dashboard in a real browser: Debian's Chromium (installed by scripts/install-prereqs.sh),
/// headless, driven through Playwright, while a labelled gesture recording streams into serve.
/// </summary>
public class DashboardBrowserTests
{
    private static readonly string[] Gestures = ["hand clap", "right wave", "left wave", "right arm cw", "right arm ccw", "left arm cw", "left arm ccw", "arm roll", "air drums", "air guitar", "other"];

    /// <summary>The Chromium binary (Debian's /usr/bin/chromium is a wrapper script around it).</summary>
    private static string? ChromiumPath()
    {
        foreach (string candidate in new[] { "/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    [Fact]
    public async Task Dashboard_shows_each_stream_with_its_live_decision_frame_and_accuracy()
    {
        string chromium = ChromiumPath() ?? throw new InvalidOperationException("Chromium not found: run scripts/install-prereqs.sh (Debian package chromium)");
        var options = new ServeOptions
        {
            Listeners = [new(ServeInputKind.Dv, 0, "camera-1") { Labels = ServingTests.User01Labels }],
            HttpPort = 0,
            Model = new WindowClassifierOptions { BinUs = 5_000, WindowUs = 100_000, Pooling = 8, Classes = 11, ClassNames = Gestures, Hidden = 32, Chunks = 5, Seed = 3 },
            Learn = true,
            FrameInterval = TimeSpan.FromMilliseconds(50),
        };
        var service = new ServeService(options, new DecisionHub(options));
        await service.StartAsync(CancellationToken.None);
        try
        {
            ServeEndpoints ports = await service.Started;
            StreamDecision? last = null;
            service.Hub.Decided += d => last = d;
            using IPlaywright playwright = await Playwright.CreateAsync();
            await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
            IPage page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 900, Height = 420 } });
            await page.GotoAsync($"http://127.0.0.1:{ports.Http!.Port}/");
            await page.WaitForFunctionAsync("() => document.getElementById('status').textContent === 'connected'");

            // record every label the panel shows as decisions arrive
            using EventBatch gesture = ServeStreams.GestureEvents("user01_synthetic.aedat4", 3.0);
            byte[] stream = ServeStreams.DvStream(gesture);
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, ports.PortOf(ServeInputKind.Dv));
            NetworkStream net = client.GetStream();
            ILocator panel = page.Locator("[data-stream='camera-1']");
            for (int part = 0; part < 6; part++)
            {
                int from = stream.Length * part / 6, to = stream.Length * (part + 1) / 6;
                await net.WriteAsync(stream.AsMemory(from, to - from));
                await Task.Delay(300);
                if (part == 0)
                {
                    await panel.WaitForAsync(new LocatorWaitForOptions { Timeout = 20_000 });
                    await page.EvaluateAsync("""
                        () => {
                          const p = document.querySelector("[data-stream='camera-1']");
                          window.seen = [p.dataset.label];
                          new MutationObserver(() => window.seen.push(p.dataset.label)).observe(p, { attributes: true, attributeFilter: ["data-label"] });
                        }
                        """);
                }
            }

            client.Client.Shutdown(SocketShutdown.Send);
            await WaitUntil(() => service.Hub.EndedStreams.Count == 1, "the stream to end");
            StreamStatus status = service.Hub.EndedStreams.Single();
            Assert.NotNull(last);

            // the panel shows the stream's latest decision by class name, and it changed as decisions came
            await page.WaitForFunctionAsync($"() => document.querySelector(\"[data-stream='camera-1']\").dataset.label === {System.Text.Json.JsonSerializer.Serialize(last.Label)}");
            string[] seen = await page.EvaluateAsync<string[]>("() => window.seen");
            Assert.True(seen.Length >= 3, $"the label was updated {seen.Length} times");
            Assert.All(seen.Where(s => s.Length > 0), s => Assert.Contains(s, Gestures));
            Assert.Equal(1, await page.Locator("[data-stream]").CountAsync());

            // the frame view drew events with the sensor's aspect ratio, the counters and the accuracy chart are filled
            int[] frame = await page.EvaluateAsync<int[]>("""
                () => {
                  const c = document.querySelector("[data-stream='camera-1'] .frame");
                  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                  let red = 0, blue = 0;
                  for (let i = 0; i < d.length; i += 4) { if (d[i] > 0) red++; if (d[i + 2] > 0) blue++; }
                  return [c.width, c.height, red, blue];
                }
                """);
            Assert.Equal(128, frame[0]);
            Assert.Equal(128, frame[1]);
            Assert.True(frame[2] + frame[3] > 0, "no event drawn");
            await page.WaitForFunctionAsync($"() => document.querySelector(\"[data-stream='camera-1'] .decisions\").textContent === '{status.Decisions}'");
            string accuracy = await panel.Locator(".accuracy").InnerTextAsync();
            Assert.EndsWith($"of {status.Labelled}", accuracy, StringComparison.Ordinal);

            string shot = Path.Combine(AppContext.BaseDirectory, "dashboard.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot });
            Assert.True(new FileInfo(shot).Length > 1000);
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
            service.Dispose();
        }
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "timed out waiting for " + what);
            await Task.Delay(20);
        }
    }
}
