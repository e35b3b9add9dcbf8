namespace EventSnn.Testing;

/// <summary>Synchronisation for tests that send UDP datagrams to a listener started by the code under test.</summary>
public static class UdpPorts
{
    /// <summary>
    /// Waits until a socket is bound to UDP <paramref name="port"/> (Linux: /proc/net/udp and
    /// udp6 list the local ports in hex; elsewhere a fixed wait); false on timeout.
    /// </summary>
    public static bool WaitUntilBound(int port, TimeSpan timeout)
    {
        string[] tables = ["/proc/net/udp", "/proc/net/udp6"];
        if (!File.Exists(tables[0]))
        {
            Thread.Sleep(1000);
            return true;
        }

        string suffix = ":" + port.ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            foreach (string table in tables)
            {
                if (!File.Exists(table))
                {
                    continue;
                }

                foreach (string line in File.ReadLines(table).Skip(1))
                {
                    string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (fields.Length > 1 && fields[1].EndsWith(suffix, StringComparison.Ordinal))
                    {
                        return true;
                    }
                }
            }

            Thread.Sleep(10);
        }

        return false;
    }
}
