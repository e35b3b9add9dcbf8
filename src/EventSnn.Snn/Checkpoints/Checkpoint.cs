using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSnn.Snn.Internal;

namespace EventSnn.Snn;

/// <summary>One named tensor of a checkpoint (float32, row-major).</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Data">Values.</param>
public sealed record CheckpointTensor(string Name, IReadOnlyList<int> Shape, float[] Data)
{
    /// <summary>Shape as text.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>Contents of a checkpoint file after validation of magic, version, structure and checksum.</summary>
public sealed class CheckpointData
{
    internal CheckpointData(string path, int version, NetworkConfig config, JsonObject meta, IReadOnlyDictionary<string, CheckpointTensor> tensors)
    {
        Path = path;
        Version = version;
        Config = config;
        Meta = meta;
        Tensors = tensors;
    }

    /// <summary>File read.</summary>
    public string Path { get; }

    /// <summary>Format version.</summary>
    public int Version { get; }

    /// <summary>Model configuration.</summary>
    public NetworkConfig Config { get; }

    /// <summary>Metadata: optimiser (name, step, hyper-parameters), FPTT settings, "training", and the named objects the writer attached (e.g. "preprocessing", "classes").</summary>
    public JsonObject Meta { get; }

    /// <summary>Tensors by name.</summary>
    public IReadOnlyDictionary<string, CheckpointTensor> Tensors { get; }

    /// <summary>
    /// The named metadata object <paramref name="name"/> a writer attached (see
    /// <see cref="Checkpoint.AttachMetadata"/>), or null when the checkpoint has none
    /// (always null for format version 1, written before named metadata existed).
    /// </summary>
    public JsonNode? Metadata(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Version >= 2 && !Checkpoint.ReservedMetadata.Contains(name) ? Meta[name] : null;
    }
}

/// <summary>
/// Versioned binary checkpoints of a network, its FPTT state (W̄, λ) and its optimiser state.
/// <para>Layout (little-endian): magic "ESNNCKPT"; u32 version (2); u32 length + UTF-8 JSON of
/// the <see cref="NetworkConfig"/>; u32 length + UTF-8 JSON metadata ({"dtype":"float32",
/// "optimizer":{"name","step","hyper"}, "fptt":{"alpha","beta"}, "training":{...}, plus named
/// objects of the writer such as "preprocessing" and "classes"}); u32 tensor count; per tensor:
/// u16 name length, UTF-8 name, u8 dtype (1 = float32), u8 rank, rank x u32 dims, the values;
/// finally u32 CRC-32 (IEEE) of every preceding byte.</para>
/// <para>Versions: 1 = the same layout without named metadata objects (still read: such a file
/// has no <see cref="CheckpointData.Metadata"/>); 2 = named metadata objects may follow the
/// reserved entries (<see cref="ReservedMetadata"/>).</para>
/// <para>Tensor names: the parameter names ("layers.0.w_in.weight", ...), the buffer names
/// ("layers.0.norm.running_mean", ...), "fptt.average/NAME",
/// "fptt.lambda/NAME", and "optim.STATE/NAME" with PyTorch's state names (exp_avg, exp_avg_sq,
/// exp_inf, momentum_buffer).</para>
/// Saving is atomic: the file is written to a temporary file in the same folder, flushed to
/// disk and renamed over the target.
/// </summary>
public static class Checkpoint
{
    /// <summary>Current format version (written).</summary>
    public const int FormatVersion = 2;

    /// <summary>Oldest format version read.</summary>
    public const int MinimumFormatVersion = 1;

    private static readonly byte[] Magic = "ESNNCKPT"u8.ToArray();
    private static readonly AsyncLocal<IReadOnlyDictionary<string, JsonNode>?> Attached = new();

    /// <summary>Metadata entries the format itself writes; named objects may not use these names.</summary>
    public static IReadOnlySet<string> ReservedMetadata { get; } = new HashSet<string>(StringComparer.Ordinal) { "dtype", "optimizer", "fptt", "training" };

    /// <summary>
    /// Attaches a named JSON object to every checkpoint saved by this thread (or async flow)
    /// while the returned scope is open, e.g. around a trainer or classifier that saves through
    /// an API without a metadata parameter. Scopes nest (inner values win) and end when disposed.
    /// Read it back with <see cref="CheckpointData.Metadata"/>.
    /// </summary>
    public static IDisposable AttachMetadata(string name, JsonNode value)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(value);
        IReadOnlyDictionary<string, JsonNode>? outer = Attached.Value;
        var inner = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        if (outer is not null)
        {
            foreach (KeyValuePair<string, JsonNode> kv in outer)
            {
                inner[kv.Key] = kv.Value;
            }
        }

        inner[name] = value.DeepClone();
        Attached.Value = inner;
        return new Scope(outer);
    }

    /// <summary>The named metadata object <paramref name="name"/> of the checkpoint at <paramref name="path"/>, or null (see <see cref="CheckpointData.Metadata"/>).</summary>
    public static JsonNode? ReadMetadata(string path, string name) => Read(path).Metadata(name);

    /// <summary>
    /// Writes a checkpoint atomically with a "training" object and named metadata objects (in
    /// addition to those attached with <see cref="AttachMetadata"/>; these win on equal names).
    /// </summary>
    public static void Save<T>(string path, Network<T> network, Optimizer<T>? optimizer, FpttLearner<T>? fptt, JsonObject? training, IReadOnlyDictionary<string, JsonNode>? metadata)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (metadata is not null)
        {
            foreach (string name in metadata.Keys)
            {
                CheckName(name);
            }
        }

        SaveCore(path, network, optimizer, fptt, training, metadata);
    }

    /// <summary>Writes a checkpoint atomically.</summary>
    public static void Save<T>(string path, Network<T> network, Optimizer<T>? optimizer = null, FpttLearner<T>? fptt = null)
        where T : unmanaged, IFloatingPointIeee754<T> => Save(path, network, optimizer, fptt, training: null);

    /// <summary>
    /// Writes a checkpoint atomically with an additional "training" object in the metadata
    /// (e.g. the epochs completed, for resuming); read it back from <see cref="CheckpointData.Meta"/>.
    /// </summary>
    public static void Save<T>(string path, Network<T> network, Optimizer<T>? optimizer, FpttLearner<T>? fptt, JsonObject? training)
        where T : unmanaged, IFloatingPointIeee754<T> => SaveCore(path, network, optimizer, fptt, training, null);

    /// <summary>
    /// Deletes the temporary files that saves into <paramref name="directory"/> left behind when
    /// their process died mid-write (<c>.name.ckpt.PID.xxxxxxxx.tmp</c> whose process is gone);
    /// returns how many. A save in progress (its process alive) is left alone.
    /// </summary>
    public static int RemoveStaleTemporaries(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        int removed = 0;
        foreach (string file in Directory.EnumerateFiles(directory, ".*.tmp"))
        {
            string[] parts = System.IO.Path.GetFileName(file).Split('.');
            if (parts.Length < 5 || !int.TryParse(parts[^3], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid) || parts[^2].Length != 8 || IsAlive(pid))
            {
                continue;
            }

            try
            {
                File.Delete(file);
                removed++;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return removed;
    }

    private static bool IsAlive(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void SaveCore<T>(string path, Network<T> network, Optimizer<T>? optimizer, FpttLearner<T>? fptt, JsonObject? training, IReadOnlyDictionary<string, JsonNode>? metadata)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(network);
        string full = System.IO.Path.GetFullPath(path);
        string dir = System.IO.Path.GetDirectoryName(full) ?? ".";
        string temp = System.IO.Path.Combine(dir, "." + System.IO.Path.GetFileName(full) + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var crc = new System.IO.Hashing.Crc32();
                var w = new CrcWriter(fs, crc);
                w.Write(Magic);
                w.WriteU32(FormatVersion);
                w.WriteBlock(Encoding.UTF8.GetBytes(network.Config.ToJson()));
                bool regularizerGradient = fptt?.HoldsRegularizerGradient == true;
                w.WriteBlock(Encoding.UTF8.GetBytes(Meta(optimizer, fptt, regularizerGradient, training, metadata).ToJsonString()));

                var tensors = new List<(string Name, Parameter<T> Shape, T[] Data)>();
                ParameterSet<T> ps = network.Parameters;
                for (int i = 0; i < ps.Count; i++)
                {
                    tensors.Add((ps[i].Name, ps[i], ps[i].Data));
                }

                foreach (Parameter<T> b in network.Buffers)
                {
                    tensors.Add((b.Name, b, b.Data));
                }

                if (fptt is not null)
                {
                    for (int i = 0; i < ps.Count; i++)
                    {
                        tensors.Add(("fptt.average/" + ps[i].Name, ps[i], fptt.GetAverage(i)));
                    }

                    for (int i = 0; i < ps.Count; i++)
                    {
                        tensors.Add(("fptt.lambda/" + ps[i].Name, ps[i], fptt.GetLambda(i)));
                    }

                    if (regularizerGradient)
                    {
                        for (int i = 0; i < ps.Count; i++)
                        {
                            tensors.Add(("fptt.gradient/" + ps[i].Name, ps[i], ps[i].Grad));
                        }
                    }
                }

                if (optimizer is not null)
                {
                    for (int s = 0; s < optimizer.StateNames.Count; s++)
                    {
                        for (int i = 0; i < ps.Count; i++)
                        {
                            tensors.Add(("optim." + optimizer.StateNames[s] + "/" + ps[i].Name, ps[i], optimizer.GetState(s, i)));
                        }
                    }
                }

                w.WriteU32((uint)tensors.Count);
                var buf = new byte[1 << 16];
                foreach ((string name, Parameter<T> shape, T[] data) in tensors)
                {
                    byte[] nb = Encoding.UTF8.GetBytes(name);
                    w.WriteU16((ushort)nb.Length);
                    w.Write(nb);
                    w.Write([1, (byte)shape.Shape.Count]);
                    foreach (int d in shape.Shape)
                    {
                        w.WriteU32((uint)d);
                    }

                    for (int off = 0; off < data.Length; off += buf.Length / 4)
                    {
                        int n = Math.Min(buf.Length / 4, data.Length - off);
                        for (int k = 0; k < n; k++)
                        {
                            BinaryPrimitives.WriteSingleLittleEndian(buf.AsSpan(k * 4), float.CreateTruncating(data[off + k]));
                        }

                        w.Write(buf.AsSpan(0, n * 4));
                    }
                }

                Span<byte> tail = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(tail, crc.GetCurrentHashAsUInt32());
                fs.Write(tail);
                fs.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new CheckpointException(path, "could not be written: " + ex.Message, ex);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Reads and validates a checkpoint (magic, version, structure, checksum, configuration).</summary>
    public static CheckpointData Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, "could not be read: " + ex.Message, ex);
        }

        if (bytes.Length < Magic.Length + 8 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new CheckpointException(path, "not an EventSnn checkpoint (magic \"ESNNCKPT\" missing)");
        }

        var r = new Reader(path, bytes.AsSpan(0, bytes.Length - 4));
        r.Skip(Magic.Length);
        uint version = r.U32("version");
        if (version is < MinimumFormatVersion or > FormatVersion)
        {
            throw new CheckpointException(path, $"format version {version} is not supported (this build reads versions {MinimumFormatVersion}..{FormatVersion})");
        }

        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4));
        uint actual = System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4));
        if (stored != actual)
        {
            throw new CheckpointException(path, $"checksum mismatch (stored CRC-32 {stored:X8}, contents {actual:X8}): the file is corrupt or truncated");
        }

        NetworkConfig config;
        JsonObject meta;
        try
        {
            config = NetworkConfig.FromJson(Encoding.UTF8.GetString(r.Block("configuration")));
            config.Validate();
            meta = JsonNode.Parse(Encoding.UTF8.GetString(r.Block("metadata")))?.AsObject() ?? throw new JsonException("empty metadata");
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            throw new CheckpointException(path, "invalid configuration or metadata: " + ex.Message, ex);
        }

        uint count = r.U32("tensor count");
        var tensors = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        for (uint i = 0; i < count; i++)
        {
            int nameLen = r.U16("tensor name length");
            string name = Encoding.UTF8.GetString(r.Bytes(nameLen, "tensor name"));
            byte dtype = r.U8("dtype");
            if (dtype != 1)
            {
                throw new CheckpointException(path, $"tensor '{name}' has unsupported dtype {dtype}");
            }

            int rank = r.U8("rank");
            var shape = new int[rank];
            long n = 1;
            for (int k = 0; k < rank; k++)
            {
                uint d = r.U32("dimension");
                if (d == 0 || d > int.MaxValue)
                {
                    throw new CheckpointException(path, $"tensor '{name}' has an invalid dimension {d}");
                }

                shape[k] = (int)d;
                n *= d;
                if (n * 4 > r.Remaining)
                {
                    throw new CheckpointException(path, $"tensor '{name}' of shape [{string.Join(", ", shape[..(k + 1)])}...] exceeds the file");
                }
            }

            float[] data = MemoryMarshal.Cast<byte, float>(r.Bytes((int)(n * 4), "tensor data")).ToArray();
            if (!BitConverter.IsLittleEndian)
            {
                throw new PlatformNotSupportedException("big-endian hosts are not supported");
            }

            if (!tensors.TryAdd(name, new CheckpointTensor(name, shape, data)))
            {
                throw new CheckpointException(path, $"tensor '{name}' appears twice");
            }
        }

        if (r.Remaining != 0)
        {
            throw new CheckpointException(path, $"{r.Remaining} unexpected bytes after the last tensor");
        }

        return new CheckpointData(path, (int)version, config, meta, tensors);
    }

    /// <summary>
    /// Loads a checkpoint into an existing network (and optionally its optimiser and FPTT learner),
    /// validating that the model layout, every tensor name and every shape match.
    /// </summary>
    public static CheckpointData Load<T>(string path, Network<T> network, Optimizer<T>? optimizer = null, FpttLearner<T>? fptt = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        CheckpointData data = Read(path);
        string want = network.Config.LayoutKey();
        string have = data.Config.LayoutKey();
        if (want != have)
        {
            throw new CheckpointException(path, $"model configuration differs: checkpoint has {have}, network has {want}");
        }

        ParameterSet<T> ps = network.Parameters;
        var plan = new List<(T[] Target, float[] Source)>();
        double[]? gradientNorms = null;
        double regularizer = 0;
        for (int i = 0; i < ps.Count; i++)
        {
            plan.Add((ps[i].Data, Tensor(data, ps[i].Name, ps[i]).Data));
        }

        foreach (Parameter<T> b in network.Buffers)
        {
            plan.Add((b.Data, Tensor(data, b.Name, b).Data));
        }

        if (fptt is not null)
        {
            if (data.Meta["fptt"] is null)
            {
                throw new CheckpointException(path, "no FPTT state (fptt.average/*, fptt.lambda/*) in the checkpoint");
            }

            for (int i = 0; i < ps.Count; i++)
            {
                plan.Add((fptt.GetAverage(i), Tensor(data, "fptt.average/" + ps[i].Name, ps[i]).Data));
                plan.Add((fptt.GetLambda(i), Tensor(data, "fptt.lambda/" + ps[i].Name, ps[i]).Data));
            }

            // saved between chunks after an update: the next chunk's regulariser gradient as the update wrote it
            if (data.Meta["fptt"]?["gradient_norm_sq"] is JsonArray norms)
            {
                if (norms.Count != ps.Count)
                {
                    throw new CheckpointException(path, $"fptt.gradient_norm_sq has {norms.Count} entries for {ps.Count} parameters");
                }

                gradientNorms = new double[ps.Count];
                for (int i = 0; i < ps.Count; i++)
                {
                    gradientNorms[i] = norms[i]?.GetValue<double>() ?? throw new CheckpointException(path, $"fptt.gradient_norm_sq[{i}] is null");
                    plan.Add((ps[i].Grad, Tensor(data, "fptt.gradient/" + ps[i].Name, ps[i]).Data));
                }

                regularizer = data.Meta["fptt"]?["regularizer"]?.GetValue<double>() ?? throw new CheckpointException(path, "fptt.regularizer is missing beside fptt.gradient_norm_sq");
            }
        }

        long step = 0;
        if (optimizer is not null)
        {
            JsonObject? o = data.Meta["optimizer"]?.AsObject();
            string? name = o?["name"]?.GetValue<string>();
            if (name is null)
            {
                throw new CheckpointException(path, "no optimiser state in the checkpoint");
            }

            if (name != optimizer.Name)
            {
                throw new CheckpointException(path, $"optimiser differs: checkpoint has '{name}', expected '{optimizer.Name}'");
            }

            step = o!["step"]?.GetValue<long>() ?? 0;
            for (int s = 0; s < optimizer.StateNames.Count; s++)
            {
                for (int i = 0; i < ps.Count; i++)
                {
                    plan.Add((optimizer.GetState(s, i), Tensor(data, "optim." + optimizer.StateNames[s] + "/" + ps[i].Name, ps[i]).Data));
                }
            }
        }

        // everything validated: apply
        foreach ((T[] target, float[] source) in plan)
        {
            for (int k = 0; k < target.Length; k++)
            {
                target[k] = T.CreateTruncating(source[k]);
            }
        }

        if (optimizer is not null)
        {
            optimizer.SetStepCount(step);
            double? lr = data.Meta["optimizer"]?["hyper"]?["lr"]?.GetValue<double>();
            if (lr is double v)
            {
                optimizer.LearningRate = v;
            }
        }

        ps.MarkChanged();
        foreach (Parameter<T> b in network.Buffers)
        {
            b.MarkChanged();
        }

        if (gradientNorms is not null)
        {
            fptt!.AdoptRegularizerGradient(gradientNorms, regularizer);
        }

        return data;
    }

    /// <summary>Creates a network from the checkpoint's configuration and loads its weights.</summary>
    public static Network<T> LoadNetwork<T>(string path)
        where T : unmanaged, IFloatingPointIeee754<T> => LoadNetwork<T>(path, average: false);

    /// <summary>
    /// Creates a network from the checkpoint's configuration and loads its weights W, or with
    /// <paramref name="average"/> FPTT's running average W̄ when the checkpoint has one (the weights
    /// the streaming classifiers decide with; after an epoch end of offline training W = W̄).
    /// </summary>
    public static Network<T> LoadNetwork<T>(string path, bool average)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckpointData data = Read(path);
        var net = new Network<T>(data.Config);
        Load(path, net);
        if (average && data.Meta["fptt"] is not null)
        {
            ParameterSet<T> ps = net.Parameters;
            for (int i = 0; i < ps.Count; i++)
            {
                float[] source = Tensor(data, "fptt.average/" + ps[i].Name, ps[i]).Data;
                for (int k = 0; k < source.Length; k++)
                {
                    ps[i].Data[k] = T.CreateTruncating(source[k]);
                }

                ps[i].MarkChanged();
            }
        }

        return net;
    }

    private static CheckpointTensor Tensor<T>(CheckpointData data, string name, Parameter<T> expected)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!data.Tensors.TryGetValue(name, out CheckpointTensor? t))
        {
            throw new CheckpointException(data.Path, $"tensor '{name}' is missing");
        }

        if (!t.Shape.SequenceEqual(expected.Shape))
        {
            throw new CheckpointException(data.Path, $"tensor '{name}' has shape {t.ShapeText}, expected {expected.ShapeText}");
        }

        return t;
    }

    private static JsonObject Meta<T>(Optimizer<T>? optimizer, FpttLearner<T>? fptt, bool regularizerGradient, JsonObject? training, IReadOnlyDictionary<string, JsonNode>? metadata)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var meta = new JsonObject { ["dtype"] = "float32" };
        if (optimizer is not null)
        {
            var hyper = new JsonObject();
            foreach (KeyValuePair<string, double> kv in optimizer.HyperParameters)
            {
                hyper[kv.Key] = kv.Value;
            }

            meta["optimizer"] = new JsonObject { ["name"] = optimizer.Name, ["step"] = optimizer.StepCount, ["hyper"] = hyper };
        }

        if (fptt is not null)
        {
            var f = new JsonObject { ["alpha"] = fptt.Options.Alpha, ["beta"] = fptt.Options.Beta, ["clip"] = fptt.Options.GradientClip };
            if (regularizerGradient)
            {
                var norms = new JsonArray();
                ParameterSet<T> ps = fptt.Network.Parameters;
                for (int i = 0; i < ps.Count; i++)
                {
                    norms.Add(ps[i].GradNormSq);
                }

                f["gradient_norm_sq"] = norms;
                f["regularizer"] = fptt.Regularizer;
            }

            meta["fptt"] = f;
        }

        if (training is not null)
        {
            meta["training"] = training.DeepClone();
        }

        if (Attached.Value is { } attached)
        {
            foreach (KeyValuePair<string, JsonNode> kv in attached)
            {
                meta[kv.Key] = kv.Value.DeepClone();
            }
        }

        if (metadata is not null)
        {
            foreach (KeyValuePair<string, JsonNode> kv in metadata)
            {
                meta[kv.Key] = kv.Value?.DeepClone();
            }
        }

        return meta;
    }

    private static void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (ReservedMetadata.Contains(name))
        {
            throw new ArgumentException($"metadata name '{name}' is reserved by the checkpoint format", nameof(name));
        }
    }

    /// <summary>Restores the attachments that were in force before <see cref="AttachMetadata"/>.</summary>
    private sealed class Scope(IReadOnlyDictionary<string, JsonNode>? outer) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                Attached.Value = outer;
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class CrcWriter(Stream stream, System.IO.Hashing.Crc32 crc)
    {
        public void Write(ReadOnlySpan<byte> data)
        {
            crc.Append(data);
            stream.Write(data);
        }

        public void WriteU32(uint v)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, v);
            Write(b);
        }

        public void WriteU16(ushort v)
        {
            Span<byte> b = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(b, v);
            Write(b);
        }

        public void WriteBlock(byte[] data)
        {
            WriteU32((uint)data.Length);
            Write(data);
        }
    }

    private ref struct Reader(string path, ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public readonly int Remaining => _data.Length - _pos;

        public void Skip(int n) => _pos += n;

        public ReadOnlySpan<byte> Bytes(int n, string what)
        {
            if (n < 0 || n > Remaining)
            {
                throw new CheckpointException(path, $"truncated or corrupt: {what} of {n} bytes at offset {_pos} exceeds the file");
            }

            ReadOnlySpan<byte> s = _data.Slice(_pos, n);
            _pos += n;
            return s;
        }

        public byte U8(string what) => Bytes(1, what)[0];

        public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2, what));

        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, what));

        public ReadOnlySpan<byte> Block(string what)
        {
            uint n = U32(what + " length");
            if (n > Remaining)
            {
                throw new CheckpointException(path, $"truncated or corrupt: {what} length {n} exceeds the file");
            }

            return Bytes((int)n, what);
        }
    }
}
