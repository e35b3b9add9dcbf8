using System.Runtime.CompilerServices;
using EventSnn.Events;

namespace EventSnn.IO;

/// <summary>Which jAER raw address layout a stream uses.</summary>
public enum JaerChip
{
    /// <summary>Not known yet.</summary>
    Unknown = 0,

    /// <summary>
    /// DVS128 / Tmpdiff128 / eDVS: 16 significant bits; bit 15 external (sync) event,
    /// bits 14..8 row, bits 7..1 column, bit 0 polarity.
    /// </summary>
    Dvs128 = 1,

    /// <summary>
    /// DAVIS (240A/B/C, 346, 640, 128, 208): bit 31 APS/IMU, bits 30..22 row, bits 21..12
    /// column, bit 11 polarity, bits 11..10 = x1 external input.
    /// </summary>
    Davis = 2,
}

/// <summary>
/// One DAVIS IMU sample as jAER stores it: seven consecutive IMU words (type codes 0..6:
/// accelerometer x/y/z, temperature, gyroscope x/y/z), raw 16-bit sensor counts.
/// Scale with the IMU's full-scale setting (jAER's defaults: 8192 LSB/g, 65.5 LSB/(deg/s),
/// temperature = raw / 340 + 35 degC).
/// </summary>
public readonly record struct JaerImuSample(
    long T,
    short AccelX,
    short AccelY,
    short AccelZ,
    short Temperature,
    short GyroX,
    short GyroY,
    short GyroZ);

// Sources (SensorsINI/jaer, read for this file):
//  - src/ch/unizh/ini/jaer/chip/retina/DVS128.java @05a4a629, Extractor.extractPacket:
//      if ((addr & (CypressFX2DVS128HardwareInterface.SYNC_EVENT_BITMASK | BasicEvent.SPECIAL_EVENT_BIT_MASK)) != 0) { special }
//      e.type = (byte) ((1 - addr) & 1);   // "The ON events have raw polarity 0"
//      e.x = (short) (sxm - ((short) ((addr & XMASK) >>> XSHIFT)));   // XMASK 0xfe, XSHIFT 1
//      e.y = (short) ((addr & YMASK) >>> YSHIFT);                      // YMASK 0x7f00, YSHIFT 8
//  - src/eu/seebetter/ini/chips/DavisChip.java @06947360: YSHIFT 22 (9 bits), XSHIFT 12 (10 bits),
//      POLSHIFT 11, EXTERNAL_INPUT_EVENT_ADDR = 1 << 10, ADDRESS_TYPE_APS = 0x80000000, ADDRESS_TYPE_IMU = 0x80000C00
//  - src/eu/seebetter/ini/chips/davis/DavisBaseCamera.java @73f96e06, DavisEventExtractor.extractPacket:
//      if ((data & DavisChip.EXTERNAL_INPUT_EVENT_ADDR) != 0) { special }   // DVS word
//      e.polarity = (data & DavisChip.POLMASK) == DavisChip.POLMASK ? On : Off;
//      e.x = (short) (sx1 - ((data & DavisChip.XMASK) >>> DavisChip.XSHIFT));
//      e.y = (short) ((data & DavisChip.YMASK) >>> DavisChip.YSHIFT);     // jAER y points up
//  - src/net/sf/jaer/eventio/aedat4/Aedat4FileInputStream.java @02d73524 (DV top-left -> jAER address):
//      final int px = sx1 - x;   final int py = dvOpenCvCoordinates ? (sy - 1 - y) : y;
//  - src/net/sf/jaer/hardwareinterface/usb/cypressfx3libusb/DAViSFX3HardwareInterface.java, translateEvents:
//      address = (dvsLastY << YSHIFT) | ((getSizeX() - 1 - data) << XSHIFT) | (polarity << POLSHIFT)
//      ("the (0, 0) address is ... in the lower left corner", x flipped for the extractor to flip back)
//  - src/eu/seebetter/ini/chips/davis/imu/IMUSample.java: 7 words, type code bits 30..28, data bits 27..12,
//      order ax, ay, az, temp, gx, gy, gz.

/// <summary>
/// Decoding of jAER raw 32-bit addresses (AEDAT 1.0/2.0 files and the jAER UDP/TCP live
/// streams) into canonical coordinates: origin top-left, polarity true = ON.
/// Every method is allocation-free.
/// </summary>
/// <remarks>
/// <para>
/// <b>DVS128</b> (jAER <c>ch.unizh.ini.jaer.chip.retina.DVS128.Extractor.extractPacket</c>):
/// an address with bit 15 (<c>CypressFX2DVS128HardwareInterface.SYNC_EVENT_BITMASK</c>) or
/// bit 31 (<c>BasicEvent.SPECIAL_EVENT_BIT_MASK</c>) set is a special (external input) event.
/// Otherwise jAER computes <c>e.x = sxm - ((addr &amp; 0xfe) &gt;&gt;&gt; 1)</c>,
/// <c>e.y = (addr &amp; 0x7f00) &gt;&gt;&gt; 8</c> and <c>e.type = (1 - addr) &amp; 1</c> with
/// type 1 = ON ("The ON events have raw polarity 0", the extractor's own comment).
/// jAER's y axis points up (origin bottom-left), so the canonical top-left row is
/// <c>127 - e.y</c>. We follow jAER, the software that writes these files: raw bit 0 = 0 is ON.
/// </para>
/// <para>
/// <b>DAVIS</b> (jAER <c>eu.seebetter.ini.chips.DavisChip</c> constants and
/// <c>DavisBaseCamera.DavisEventExtractor.extractPacket</c>): an address with
/// <c>(a &amp; 0x80000C00) == 0x80000C00</c> is an IMU word; bit 31 otherwise marks an APS
/// ADC sample; a DVS word with bit 10 (<c>EXTERNAL_INPUT_EVENT_ADDR</c>) set is an external
/// input. For DVS events jAER computes <c>e.x = sx1 - ((a &amp; XMASK) &gt;&gt;&gt; 12)</c>,
/// <c>e.y = (a &amp; YMASK) &gt;&gt;&gt; 22</c> and ON when bit 11 (<c>POLMASK</c>) is set.
/// jAER's own AEDAT4 import (<c>net.sf.jaer.eventio.aedat4.Aedat4FileInputStream</c>, which packs
/// DV's top-left events into DAVIS addresses as <c>px = sx1 - x</c>, <c>py = sy - 1 - y</c>)
/// confirms the inverse used here: canonical <c>x = (width - 1) - rawX</c>,
/// <c>y = (height - 1) - rawY</c>, ON = bit 11. When the sensor size is not known the mirror
/// cannot be applied and the raw fields are reported unchanged (see
/// <see cref="DecodeDavisRaw"/>).
/// </para>
/// </remarks>
public static class JaerAddress
{
    /// <summary>DVS128 external (sync) event bit.</summary>
    public const uint Dvs128ExternalBit = 0x8000;

    /// <summary>jAER special-event bit (bit 31), also treated as external for DVS128.</summary>
    public const uint SpecialBit = 0x80000000;

    /// <summary>DAVIS: bit 31 set = APS sample or IMU word.</summary>
    public const uint DavisApsImuBit = 0x80000000;

    /// <summary>DAVIS: IMU word pattern (bit 31 and bits 11..10 set).</summary>
    public const uint DavisImuMask = 0x80000C00;

    /// <summary>DAVIS: external input event bit (bit 10) in a DVS word.</summary>
    public const uint DavisExternalBit = 0x400;

    /// <summary>DAVIS: polarity bit (bit 11), set = ON.</summary>
    public const uint DavisPolarityBit = 0x800;

    /// <summary>DAVIS: x field shift (bits 21..12).</summary>
    public const int DavisXShift = 12;

    /// <summary>DAVIS: y field shift (bits 30..22).</summary>
    public const int DavisYShift = 22;

    /// <summary>DAVIS: x field mask after shifting (10 bits).</summary>
    public const uint DavisXMask = 0x3FF;

    /// <summary>DAVIS: y field mask after shifting (9 bits).</summary>
    public const uint DavisYMask = 0x1FF;

    /// <summary>True when a DVS128 address is an external (sync) or special event.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsDvs128External(uint address) => (address & (Dvs128ExternalBit | SpecialBit)) != 0;

    /// <summary>
    /// Decodes a DVS128 pixel address (not external) to top-left coordinates; ON when raw bit 0 is 0 (jAER).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void DecodeDvs128(uint address, out int x, out int y, out bool on)
    {
        x = 127 - (int)((address >> 1) & 0x7F);
        y = 127 - (int)((address >> 8) & 0x7F);
        on = (address & 1) == 0;
    }

    /// <summary>Encodes top-left coordinates into a DVS128 address (inverse of <see cref="DecodeDvs128"/>).</summary>
    public static uint EncodeDvs128(int x, int y, bool on)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)x, 127u, nameof(x));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)y, 127u, nameof(y));
        return ((uint)(127 - y) << 8) | ((uint)(127 - x) << 1) | (on ? 0u : 1u);
    }

    /// <summary>True for a DAVIS DVS word (bit 31 clear), including external input events.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsDavisDvs(uint address) => (address & DavisApsImuBit) == 0;

    /// <summary>True for a DAVIS external input event (a DVS word with bit 10 set).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsDavisExternal(uint address) => (address & (DavisApsImuBit | DavisExternalBit)) == DavisExternalBit;

    /// <summary>True for a DAVIS IMU word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsDavisImu(uint address) => (address & DavisImuMask) == DavisImuMask;

    /// <summary>True for a DAVIS APS (frame ADC) sample.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsDavisAps(uint address) => (address & DavisApsImuBit) != 0 && (address & DavisImuMask) != DavisImuMask;

    /// <summary>IMU word: sample type code 0..6 (bits 30..28).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DavisImuType(uint address) => (int)((address >> 28) & 0x7);

    /// <summary>IMU word: the signed 16-bit sensor value (bits 27..12).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static short DavisImuValue(uint address) => unchecked((short)(ushort)(address >> 12));

    /// <summary>DAVIS DVS word: raw column field (bits 21..12), in jAER's mirrored convention.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DavisRawX(uint address) => (int)((address >> DavisXShift) & DavisXMask);

    /// <summary>DAVIS DVS word: raw row field (bits 30..22), jAER's bottom-up convention.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DavisRawY(uint address) => (int)((address >> DavisYShift) & DavisYMask);

    /// <summary>
    /// Decodes a DAVIS DVS word to top-left coordinates for a sensor of the given size.
    /// Returns false when the address lies outside the sensor.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool DecodeDavis(uint address, SensorGeometry geometry, out int x, out int y, out bool on)
    {
        int rx = DavisRawX(address);
        int ry = DavisRawY(address);
        on = (address & DavisPolarityBit) != 0;
        x = geometry.Width - 1 - rx;
        y = geometry.Height - 1 - ry;
        return rx < geometry.Width && ry < geometry.Height;
    }

    /// <summary>
    /// Decodes a DAVIS DVS word without knowing the sensor size: the raw x/y fields unchanged
    /// (no mirror), ON = bit 11.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void DecodeDavisRaw(uint address, out int x, out int y, out bool on)
    {
        x = DavisRawX(address);
        y = DavisRawY(address);
        on = (address & DavisPolarityBit) != 0;
    }

    /// <summary>
    /// Encodes top-left coordinates into a DAVIS DVS word (inverse of <see cref="DecodeDavis"/>);
    /// with an unknown geometry the coordinates are stored unmirrored (inverse of <see cref="DecodeDavisRaw"/>).
    /// </summary>
    public static uint EncodeDavis(int x, int y, bool on, SensorGeometry geometry)
    {
        int rx, ry;
        if (geometry.IsKnown)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)x, (uint)geometry.Width, nameof(x));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)y, (uint)geometry.Height, nameof(y));
            rx = geometry.Width - 1 - x;
            ry = geometry.Height - 1 - y;
        }
        else
        {
            rx = x;
            ry = y;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)rx, DavisXMask, nameof(x));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)ry, DavisYMask, nameof(y));
        return ((uint)ry << DavisYShift) | ((uint)rx << DavisXShift) | (on ? DavisPolarityBit : 0u);
    }

    /// <summary>
    /// Maps a jAER AEChip class name (e.g. <c>eu.seebetter.ini.chips.davis.DAVIS240C</c>,
    /// <c>ch.unizh.ini.jaer.chip.retina.DVS128</c>) or a short name (<c>dvs128</c>, <c>davis</c>,
    /// <c>davis240</c>, <c>davis346</c>, <c>davis640</c>, <c>davis128</c>, <c>davis208</c>) to the
    /// address layout and sensor size. Returns false for names it does not know.
    /// The geometry is <see cref="SensorGeometry.Unknown"/> for a DAVIS class of unknown size.
    /// </summary>
    public static bool TryParseChip(string? name, out JaerChip chip, out SensorGeometry geometry)
    {
        chip = JaerChip.Unknown;
        geometry = SensorGeometry.Unknown;
        if (string.IsNullOrWhiteSpace(name))
        {
            return false;
        }

        string simple = name.Trim();
        int dot = simple.LastIndexOf('.');
        if (dot >= 0 && dot < simple.Length - 1)
        {
            simple = simple[(dot + 1)..];
        }

        simple = simple.ToLowerInvariant();
        if (simple.Contains("dvs128", StringComparison.Ordinal) || simple.Contains("tmpdiff128", StringComparison.Ordinal)
            || simple.StartsWith("edvs", StringComparison.Ordinal))
        {
            chip = JaerChip.Dvs128;
            geometry = SensorGeometry.Dvs128;
            return true;
        }

        if (simple.StartsWith("davis240", StringComparison.Ordinal) || simple.StartsWith("dvs240", StringComparison.Ordinal))
        {
            geometry = SensorGeometry.Davis240;
        }
        else if (simple.StartsWith("davis346", StringComparison.Ordinal))
        {
            geometry = SensorGeometry.Davis346;
        }
        else if (simple.StartsWith("davis640", StringComparison.Ordinal) || simple.StartsWith("davisrgbw640", StringComparison.Ordinal)
            || simple.StartsWith("davisrgb640", StringComparison.Ordinal))
        {
            geometry = new SensorGeometry(640, 480);
        }
        else if (simple.StartsWith("davis128", StringComparison.Ordinal))
        {
            geometry = new SensorGeometry(128, 128);
        }
        else if (simple.StartsWith("davis208", StringComparison.Ordinal))
        {
            geometry = new SensorGeometry(208, 192);
        }
        else if (!simple.Contains("davis", StringComparison.Ordinal))
        {
            return false;
        }

        chip = JaerChip.Davis;
        return true;
    }
}
