using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EventSnn.Events;
using EventSnn.IO;
using EventSnn.Pipeline;

namespace EventSnn.Cli.Commands;

/// <summary>
/// `eventsnn send &lt;recording&gt; &lt;udp://host:port | tcp://host:port&gt;`: replays a recording to a
/// socket (jAER UDP/TCP client, DV AEDAT4 push client, or a DV AEDAT4 server with --listen or host
/// 0.0.0.0), paced by its timestamps, so `serve` and `classify tcp://|udp://` run without a sensor.
/// A thin wrapper of <see cref="EventSenders"/>.
/// </summary>
internal sealed class SendCommand : Command
{
    public override string Name => "send";

    public override string Summary => "replay a recording to a socket: jAER or AEDAT 3.x over udp:// or tcp://, DV AEDAT4 pushed to tcp:// (--protocol dv) or served to clients (--listen / tcp://0.0.0.0:port)";

    public override string Arguments => "<recording> <udp://host:port | tcp://host:port>";

    public override IReadOnlyList<OptionSpec> Options =>
    [
        new("protocol", "jaer|dv|aedat3", "wire protocol (default: jaer; dv when listening); aedat3 = libcaer's AEDAT 3.x network framing"),
        new("listen", null, "tcp:// only: listen on host:port and stream to the client that connects (dv: to every client, starting with the first)"),
        new("speed", "s", "1 = real time (paced by event timestamps), 2 = twice as fast, 0 = as fast as possible (default 1)"),
        new("loop", null, "start over at the end, timestamps kept increasing, until Ctrl-C/SIGTERM"),
        new("connect-timeout", "seconds", "longest wait for a TCP connection (default 5)"),
        new("json", null, "print the summary as one JSON object"),
        .. ReaderOptionParsing.Specs,
    ];

    /// <summary>Stops the replay like Ctrl-C (tests).</summary>
    internal CancellationToken StopToken { get; init; }

    public override int Execute(ParsedArgs args, TextWriter stdout, TextWriter stderr)
    {
        string path = args.Positional(0, "<recording>");
        string address = args.Positional(1, "<udp://host:port | tcp://host:port>");
        if (args.Positionals.Count > 2)
        {
            throw new UsageException($"unexpected argument '{args.Positionals[2]}' (send takes a recording and one address)");
        }

        SendProtocol? protocol = args.Get("protocol") switch
        {
            null => null,
            "jaer" => SendProtocol.Jaer,
            "dv" => SendProtocol.Dv,
            "aedat3" => SendProtocol.Aedat3,
            string other => throw new UsageException($"option --protocol: unknown protocol '{other}' (jaer, dv or aedat3)"),
        };
        double speed = args.GetDouble("speed", 1);
        if (!(speed >= 0 && double.IsFinite(speed)))
        {
            throw new UsageException($"option --speed: must be 0 (as fast as possible) or a positive factor, not {args.Get("speed")}");
        }

        double connectTimeout = args.GetDouble("connect-timeout", 5);
        if (!(connectTimeout > 0 && connectTimeout <= 3600))
        {
            throw new UsageException("option --connect-timeout: must be a positive number of seconds (at most 3600)");
        }

        (bool tcp, _, _) = ParseAddress(address);
        bool listen = args.Has("listen");
        if (listen && !tcp)
        {
            throw new UsageException($"option --listen: only for tcp:// addresses, not {address}");
        }

        if (!tcp && protocol == SendProtocol.Dv)
        {
            throw new UsageException($"option --protocol dv: DV runs over tcp://, not {address}");
        }

        // open the recording once up front: a missing, unreadable or non-DVS file fails before any socket is touched
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found", path);
        }

        ReaderOptions readerOptions = ReaderOptionParsing.From(args);
        SensorGeometry geometry;
        using (IDvsEventReader probe = EventReaders.OpenDvs(path, readerOptions))
        {
            geometry = probe.Geometry;
        }

        bool json = args.Has("json");
        bool loop = args.Has("loop");
        var replay = new ReplayOptions
        {
            Pacing = speed == 0 ? ReplayPacing.AsFastAsPossible : speed == 1 ? ReplayPacing.RealTime : ReplayPacing.Scaled,
            Speed = speed == 0 ? 1 : speed,
            Loop = loop,
        };
        var options = new SendOptions
        {
            Protocol = protocol,
            Listen = listen,
            Geometry = geometry,
            ConnectTimeout = TimeSpan.FromSeconds(connectTimeout),
            OnListening = ep => stderr.WriteLine($"send: listening on tcp://{ep}; waiting for a client, Ctrl-C to stop"),
        };

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(args.Cancellation, StopToken);
        SendResult result;
        try
        {
            using IEventSender sender = EventSenders.Open(address, options, stop.Token);
            string wire = sender switch
            {
                JaerUdpSender or JaerTcpSender => "jaer",
                Aedat3UdpSender or Aedat3TcpSender => "aedat3",
                _ => "dv",
            };
            stderr.WriteLine($"send: {path} -> {sender.Peer} ({wire}, {(speed == 0 ? "as fast as possible" : speed.ToString("0.###", CultureInfo.InvariantCulture) + "x real time")}{(loop ? ", looping" : string.Empty)})");
            result = EventSenders.Replay(path, sender, replay, readerOptions, stop.Token);
            WriteSummary(stdout, json, path, wire, result);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(CommandRunner.UserMessage(ex));
        }
        catch (SendException ex)
        {
            throw new UsageException(CommandRunner.UserMessage(ex));
        }
        catch (PipelineException ex) when (ex.InnerException is not EventFormatException)
        {
            throw new UsageException(CommandRunner.UserMessage(ex));
        }
        catch (PipelineException ex) when (ex.InnerException is EventFormatException format)
        {
            throw format;
        }

        stdout.Flush();
        return result.Interrupted ? CommandRunner.Interrupted : CommandRunner.Ok;
    }

    private static (bool Tcp, string Host, int Port) ParseAddress(string address)
    {
        try
        {
            return EventSenders.ParseAddress(address);
        }
        catch (ArgumentException)
        {
            throw new UsageException($"'{address}' is not udp://host:port or tcp://host:port");
        }
    }

    private static void WriteSummary(TextWriter stdout, bool json, string path, string wire, SendResult r)
    {
        if (json)
        {
            var line = new SendJson(path, r.Peer, wire, r.Events, r.Packets, r.Bytes, Math.Round(r.Seconds, 3), Math.Round(r.EventsPerSecond, 1), r.Interrupted);
            stdout.WriteLine(JsonSerializer.Serialize(line, CliJsonContext.Default.SendJson));
            return;
        }

        stdout.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"sent {r.Events} events in {r.Packets} {(r.Peer.StartsWith("udp://", StringComparison.Ordinal) ? "datagrams" : "packets")} ({r.Bytes} bytes) to {r.Peer} in {r.Seconds:0.000} s: {r.EventsPerSecond:0} events/s{(r.Interrupted ? " (interrupted)" : string.Empty)}"));
    }
}

/// <summary>The <c>send --json</c> summary: what was sent where, seconds (rounded to 0.001) and events per second (0.1).</summary>
internal sealed record SendJson(
    string Recording,
    string Peer,
    string Protocol,
    long Events,
    long Packets,
    long Bytes,
    double Seconds,
    [property: JsonPropertyName("events_per_s")] double EventsPerS,
    bool Interrupted);
