using System.IO.Compression;

namespace EventSnn.IO.Tests;

/// <summary>
/// Small SHD-layout files written by the real libraries (h5py 3.7.0 / HDF5 1.10.8 and
/// PyTables 3.7.0, Debian bookworm), gzip-compressed and base64-encoded so the reader is
/// tested against genuine h5py/PyTables structures without those libraries at test time.
/// All three hold the same hand-chosen samples (times in seconds, units):
/// <code>
/// import h5py, tables, numpy as np
/// T = [[0.0, 0.001, 0.5], [], [0.25, 1.25], [0.125], [2.0, 3.5, 4.0, 1000.0]]
/// U = [[0, 1, 699], [], [350, 351], [7], [10, 20, 30, 40]]
/// L = [3, 0, 19, 7, 12]; S = [1, 0, 11, 5, 2]
/// words = ["zero", ..., "nine", "null", "eins", ..., "neun"]  # 20 SHD class names
/// # a_h5py.h5: h5py defaults (superblock v0, contiguous): vlen float16 times, vlen uint16 units,
/// #   uint8 labels, uint8 /extra/speaker, fixed-length bytes /extra/keys,
/// #   /extra/meta_info/{gender (S), age (u1), body_height (u1)} with 3 speakers
/// # b_tables.h5: PyTables VLArray (Float16Atom, UInt16Atom), chunkshape 8, zlib 5 + shuffle,
/// #   uint16 labels and speaker, fixed-length keys, no meta_info
/// # c_latest.h5: h5py libver="latest" (superblock v3): vlen float32 times, vlen int16 units,
/// #   int64 labels, variable-length str keys, no speaker/meta_info
/// </code>
/// sha256 of the decompressed files: a dbcb2ae4..., b 9fd80cae..., c a8fb9345....
/// </summary>
internal static class ShdReferenceFiles
{
    /// <summary>a_h5py.h5 (gzip, base64).</summary>
    public const string H5pyDefault =
        "H4sIAAAAAAACA+1ZT08TQRR/s0vpumoo0gOgSIULif9qogkxMakBlIMRoh44CQud0g1lS7pb/p044o0jX8CEeDIeDIlXEzn6Efgm" +
        "uNOd2cyMLS0YY2vfL2lfZ+bte7tvfvM6++bD7PSL6/awDQyWBT2QAhlnHCeP1LYYX+KScLnP5ZEh+kltbJD393P7ut67NzMzTPtM" +
        "g/BzmoikBYhuxOzM83kmF3g7w+WJoer5G+4a9QFKzjIthZJuBxVH4ufkBf024u+sGbWLidb4O8mJm8KpRP5KfNpPqHqBu87oC1XP" +
        "DXyJt7lL+n37em6agBn7mx9R8/U2bx+OqvzM3jzfrsjDGVO1p6+L/wUEEtEzEtGOIkpI1CEeV0gzzFBsZIjHtD/TBwaPsJ0Auy/W" +
        "t2p6hhFZtrhdkxzYfMa0O9lri3hEvDJiHkwkz9cXvNq7grngz3g1qPCKfQwpwo35dDpcn0/7bRUPlj5ObTWnyDCkcZPriDaLUY/U" +
        "ZpR8OTX3ikgEFDZ7Y4tDabYpMH7rJ/DNiHwAt1vDY3gmt4V8TxaJPE/xtiSr2hX9SU3G+9ocTMH0zxVL67chDbdhIr67bB+uHQQC" +
        "gUAgEAgEAoFAIOrVE4wm9YQerZ7Qq9UTLLhMvSZVU03Fl1h8XNRpDK1Okx1XLQgctGV8/348nnRYPOqfF+l19mbnRakMSNFBdBv0" +
        "8yJR+TseVfX8Deqs0Qqs0R12XATrNHAWXa9QjvkYIduiX3FeJOr1C3fO1xc8L46p/nL3+CodU3mcu9Ud89csL6a5XjrOi1H+GyDR" +
        "/07jfPiU58NtzeNhm8ejfl7UedKI95/HVHur1MuHtAdnldbay+X8zmKRuqvF4FK8b30/MZC8RuBqwtillXCRlT3mP9hi6y0oViiF" +
        "Qrka3lfB3QwHfJfNkk83qQfRvXkuu8CrlkoQ9njhmt3doi5AvsK+N132TIUq9QrhVStFP7RAl6nnrLDH8mjVC0fpulOqfcTvkdH7" +
        "n75+xJyJQCAQCMS/2teZUt3hYvu6L3xfd6Oj9nXN3mOXHuB7bDdDf588etja++Rxk4274FP2Luad+nnnonW27+OqBYGDLo3Hj46K" +
        "xy+UAUUGyDEAAA==";

    /// <summary>b_tables.h5 (gzip, base64).</summary>
    public const string PyTablesShuffleDeflate =
        "H4sIAAAAAAACA+2azU8TQRTA32yhlBZCUQ7VRMNBCReRIioXTSu0gqmWtIXIBag4tRvK0nRbPowHTTxo4h9A4sGPkwdvxpMXDx44" +
        "mMCRuxf/BG86szuzzBZaWg2JwPuVdpiZN1+7b968bd/L8bF4p/+sHzg+H7RAEFR+C7ZvuvOyfl6kRKQvRPpBk+VtVl1IlAdF/70e" +
        "Ox8SDTOpWIxL/65CjvPLa6c+QE4i47HoJE/vi3yvSDc1t5xZ1BepCVDIPqAFltK1cimr6OdIk+N2C32t1usOMQMCXuC7JjORSTAF" +
        "htNBeyzN+uNy/YqcD0YT0XRayLUq87qdSk5NuuR91ms6lkpPJO9Z8h5FPjwwKOYx6Mh3sHd8IpFhTSDok3sl4tqfrYSIdiOiPGSN" +
        "MzmTid5KxNJz8WTqbjQzV2vcoYGws5799nVEbNAdaGxf9/tlewT39a4+vfW65cr6Et/WUDH0sqnoY+Qvx03fS44RptlyvJ0B9zkG" +
        "l4WdCbv1c+NS/X7l+TTS4u5vXuSfeo/X/ZP2sXp9R90+EiZNlApp34oBO79WdR08bL1c9IzQle7eLnuBLOdvBX+X7J+Naq3fY/cc" +
        "YPPj/xBxrmii3sxXcrkCteZN2OshzRWyZWpdE1vPbM31aNpI567qOWb0lFgd7+t5uHOx3nVuU9Y/nYimUtGZPZ6WvV80pzTUXl8v" +
        "5ER+BtDGqRBx34jQs9YqP7tx/R5uap8RaLfyEdLYPLhlVPU5CODo8yHpcf7iIejxYV1P7teQffyaPvUMUbhwbf9zAv0eBEEQBDm+" +
        "3B5NJohy4EsfYfdx8EwP/0pG21NO4Itm+yqcFlk8DDfUvExnyRxR/Tnn67FBd7+yvK0qdbz+CIzC2PaCr6rcDz1wXvhUVrddeG8R" +
        "BEEQBEEQBEEQRNLs7wV38PcCBEEQBDlxyHiNwQPiNWTqYZ4BgTpxGppGbD9CxFuQjat2S79r3GbiLdT4LBk11Gi8xVCT8Ra7/bZZ" +
        "/cYT0elkau88jMpScR1qx6duiHi+RuNTn15x+1/IyaJWfGok7JYzizS7SEuwSNdNgH+PT5VxldVxqEc/rtLviqs8yK7Jfbs5LO6H" +
        "U1/Lrr0/UnZNxlU68cU36uuFtEPFIdybKrXOv2bPjf9nPWyObM52FHKAzVWDx7S0DLBsUFZSXl3mn/kSpZBbrpQAcvoKqzB1Hpls" +
        "0hVqANUf5ctg6LyBUSkUgJUYzDo9XqU6wMMS/1zRKW9boUaOtVrIm6wH+oAa2QXWFAxaMQDWZhdy8/ObQQqeuDfx9fmFrY4pz49P" +
        "Wjhw6s250etZgE/ftS5Fqs+W0r69Gn9y7UPo1dazd6+ZufjcoZ1GTUUQBEGQg5//+2v4yT1CrsfxF2x/mB+w3rr+8UfhH68dy+f+" +
        "P7uCk2fQPgAA";

    /// <summary>c_latest.h5 (gzip, base64).</summary>
    public const string H5pyLatest =
        "H4sIAAAAAAACA+1YvW8TMRR/vqTpJc01381HoxIxsQErVG0kAnRAatSBEUiCQ04JF3SXpCELlWDhv8jIyAiCDQboCgN/CBsD2LHd" +
        "Og9EoGKJ8E+ynn7P9nvPz1/ne75Xu+HESrGQbYPCdwm7JPglqd/+6A3392oHVuXZZaerl7GV1jsqxCwgAJEUMBEJHrldGryTtqSy" +
        "12jSXuCFpDLJlSt0PPAbk7BsWYLf4DjXh7OEJBwN3Ic0uE3mnA89dxA0LZgf+l/g05ftt7OQCBCSBbAIISuyTslQGUiRSeYSUpVz" +
        "IMZagbwN+Se8HYsyZNlsBGECcmLqysELWBpstS4eLMxF9jQXSTZWkfrkXA7qBZSDl7B0+Hz8dbowF3EgPAdiyqsiBzGRg6nMwQVl" +
        "8BUsLa760e5Ztm2Cb9Fwlz4OHJWy6/8opN3qN4KnJyvrsvpSJUQsVeCxcNhzS/WDnKYqWd6l+vq9cx4M/gfwm7cubxjyi3pLqw/J" +
        "NorzLRjW+CorN6/t3yIg94dmM67Z7KefXuE7Ttmf3b4ntQTeWMKX2FwKRzsA0131VaDkHXKX6Cdo+NTNjm5X+VlFMnnavgpwj5Uj" +
        "ViY1G/mPsUNgi529UeTHG/Z6on5eT10v4HIN6SeH1NXzofT3faF3kH7kUp/LdXRTtIfUazOZQPqAtjqBNi41/sClTeqxrw1kv9Hq" +
        "DLhM43HRocdlBunb7ojOHYkn9sczmfspnhF3CxtIT90HM8d57Nf1ZvYLqP2g41NeUcTx9Ie+/pWo4hkc9mdyE+n7wjyU8bxQv6+v" +
        "+6pjzgYDAwMDAwMDAwMDA4M//Z9gLfifEEb/EyLof4KtvdsUMuj9rr+jVb8yimMT8ZJ8VypeQP2LiGdQ/yzqn0N8A/XPIx5FPIb4" +
        "GuJxxB3kbx3xhMyl4knUP4U4f/v/APl5maYIGgAA";

    /// <summary>Decompresses <paramref name="base64Gzip"/> into <paramref name="path"/>.</summary>
    public static void Write(string base64Gzip, string path)
    {
        using var gz = new GZipStream(new MemoryStream(Convert.FromBase64String(base64Gzip)), CompressionMode.Decompress);
        using FileStream file = File.Create(path);
        gz.CopyTo(file);
    }
}
