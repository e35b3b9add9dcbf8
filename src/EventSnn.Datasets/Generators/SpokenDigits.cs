using System.Diagnostics;
using EventSnn.Datasets.Audio;

namespace EventSnn.Datasets.Generators;

/// <summary>A synthetic speaker: an espeak-ng voice variant with its own accent, pitch and speed.</summary>
/// <param name="Id">Speaker id stored in /extra/speaker.</param>
/// <param name="Variant">espeak-ng voice variant (m1..m8, f1..f5, klatt...).</param>
/// <param name="EnglishVoice">espeak-ng English voice (accent) this speaker uses.</param>
/// <param name="Pitch">Base pitch (espeak-ng -p, 0..99).</param>
/// <param name="Speed">Base speed in words per minute (espeak-ng -s).</param>
/// <param name="IsTest">True when the speaker is held out for the test split.</param>
public sealed record SyntheticSpeaker(int Id, string Variant, string EnglishVoice, int Pitch, int Speed, bool IsTest);

/// <summary>One synthesised utterance, before encoding.</summary>
/// <param name="Label">Class 0..19 (0-9 English "zero".."nine", 10-19 German "null".."neun").</param>
/// <param name="Speaker">The speaker.</param>
/// <param name="Voice">The full espeak-ng voice used.</param>
/// <param name="Pcm">Mono samples in [-1, 1] with noise added.</param>
/// <param name="SampleRate">Sampling rate in Hz.</param>
public sealed record Utterance(int Label, SyntheticSpeaker Speaker, string Voice, float[] Pcm, int SampleRate);

/// <summary>
/// Spoken digits 0-9 in English and German (20 classes, SHD's label order) synthesised with
/// espeak-ng across 16 speakers (voice variants with their own accent, pitch and speed),
/// with per-utterance jitter of pitch, speed and loudness, a random onset and added noise at a
/// random SNR. Four speakers are held out: the test split has only voices unheard in training.
/// </summary>
public static class SpokenDigits
{
    /// <summary>Number of classes.</summary>
    public const int Classes = 20;

    /// <summary>Class names (SHD's /extra/keys order: English zero..nine, then German null..neun).</summary>
    public static readonly string[] Keys =
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun",
    ];

    private static readonly string[] EnglishVoices = ["en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd"];

    /// <summary>The 16 speakers; those with <see cref="SyntheticSpeaker.IsTest"/> form the test split.</summary>
    public static readonly SyntheticSpeaker[] Speakers = BuildSpeakers();

    /// <summary>Fails with a clear message when espeak-ng cannot be run.</summary>
    public static void CheckEspeak(string executable = "espeak-ng")
    {
        try
        {
            var psi = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("--version");
            using Process p = Process.Start(psi) ?? throw new InvalidOperationException("espeak-ng did not start");
            p.StandardOutput.ReadToEnd();
            p.WaitForExit(10_000);
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"'{executable} --version' failed with exit code {p.ExitCode}");
            }
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("espeak-ng is not installed: the spoken-digits generator needs it (Debian/Ubuntu: apt-get install -y espeak-ng)", ex);
        }
    }

    /// <summary>The speaker of sample <paramref name="index"/> of class <paramref name="label"/> (round robin, so every speaker says every digit).</summary>
    public static SyntheticSpeaker SpeakerFor(int label, int index) => Speakers[(index + (label * 3)) % Speakers.Length];

    /// <summary>
    /// Synthesises sample <paramref name="index"/> of class <paramref name="label"/>
    /// (deterministic for the seed): runs espeak-ng into a temporary WAV, adds the onset and noise.
    /// </summary>
    public static Utterance Synthesize(int label, int index, int seed, string workFolder, string executable = "espeak-ng")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(label);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(label, Classes);
        var random = new Random(Seeds.Derive(seed, label, index, 0xA0D1));
        SyntheticSpeaker speaker = SpeakerFor(label, index);
        bool german = label >= 10;
        string voice = (german ? "de" : speaker.EnglishVoice) + "+" + speaker.Variant;
        int pitch = Math.Clamp(speaker.Pitch + random.Next(-8, 9), 0, 99);
        int speed = Math.Clamp(speaker.Speed + random.Next(-20, 21), 100, 260);
        int amplitude = random.Next(70, 160);
        Directory.CreateDirectory(workFolder);
        string wav = Path.Combine(workFolder, $"espeak-{Environment.ProcessId}-{label}-{index}-{Environment.CurrentManagedThreadId}.wav");
        try
        {
            var psi = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in new[] { "-v", voice, "-p", pitch.ToString(System.Globalization.CultureInfo.InvariantCulture), "-s", speed.ToString(System.Globalization.CultureInfo.InvariantCulture), "-a", amplitude.ToString(System.Globalization.CultureInfo.InvariantCulture), "-w", wav, Keys[label] })
            {
                psi.ArgumentList.Add(a);
            }

            Process p;
            try
            {
                p = Process.Start(psi) ?? throw new InvalidOperationException("espeak-ng did not start");
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                throw new InvalidOperationException("espeak-ng is not installed: the spoken-digits generator needs it (Debian/Ubuntu: apt-get install -y espeak-ng)", ex);
            }

            using (p)
            {
                Task<string> err = p.StandardError.ReadToEndAsync();
                p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(60_000))
                {
                    p.Kill(entireProcessTree: true);
                    throw new TimeoutException($"espeak-ng did not finish for '{Keys[label]}' with voice {voice}");
                }

                if (p.ExitCode != 0)
                {
                    throw new InvalidOperationException($"espeak-ng failed for '{Keys[label]}' with voice {voice} (exit {p.ExitCode}): {err.Result.Trim()}");
                }
            }

            float[] speech = WavReader.ReadMono(wav, out int rate);
            return new Utterance(label, speaker, voice, AddOnsetAndNoise(speech, rate, random), rate);
        }
        finally
        {
            if (File.Exists(wav))
            {
                File.Delete(wav);
            }
        }
    }

    /// <summary>Encodes an utterance with the cochlea into spike times (us) and units (channels).</summary>
    public static (long[] TimesUs, ushort[] Units) Encode(Utterance utterance, CochleaOptions? cochlea = null)
    {
        ArgumentNullException.ThrowIfNull(utterance);
        var times = new List<long>(8192);
        var units = new List<ushort>(8192);
        AudioEncoding.EncodeToShd(utterance.Pcm, utterance.SampleRate, cochlea, times, units);
        return ([.. times], [.. units]);
    }

    private static float[] AddOnsetAndNoise(float[] speech, int rate, Random random)
    {
        // trim espeak's trailing silence to 60 ms, add a random onset of 20..150 ms
        int end = speech.Length;
        while (end > 0 && MathF.Abs(speech[end - 1]) < 1e-3f)
        {
            end--;
        }

        end = Math.Min(speech.Length, end + (rate * 60 / 1000));
        int onset = rate * random.Next(20, 151) / 1000;
        var x = new float[onset + end + (rate * 40 / 1000)];
        double power = 0;
        for (int i = 0; i < end; i++)
        {
            x[onset + i] = speech[i];
            power += speech[i] * (double)speech[i];
        }

        power /= Math.Max(1, end);
        double snrDb = 8 + (22 * random.NextDouble());
        double noiseRms = Math.Sqrt(power / Math.Pow(10, snrDb / 10));
        // mixture of white and low-passed (brown-ish) noise, like a room with a fan
        double lowpass = 0, mix = random.NextDouble();
        for (int i = 0; i < x.Length; i++)
        {
            double white = MathNet.Numerics.Distributions.Normal.Sample(random, 0, 1);
            lowpass = (0.98 * lowpass) + (0.2 * white);
            double n = (mix * white) + ((1 - mix) * lowpass);
            x[i] += (float)(noiseRms * n);
        }

        return x;
    }

    private static SyntheticSpeaker[] BuildSpeakers()
    {
        string[] variants = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3"];
        int[] test = [2, 6, 9, 14];
        var random = new Random(20200101);
        var speakers = new SyntheticSpeaker[variants.Length];
        for (int i = 0; i < variants.Length; i++)
        {
            speakers[i] = new SyntheticSpeaker(
                i,
                variants[i],
                EnglishVoices[i % EnglishVoices.Length],
                35 + random.Next(0, 35),
                140 + random.Next(0, 60),
                Array.IndexOf(test, i) >= 0);
        }

        return speakers;
    }
}
