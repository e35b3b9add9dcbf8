#!/usr/bin/env python3
"""Seeded damaged copies of a recording, for robustness runs (nothing is written into the repository).

usage: scripts/mutate.py <recording> <out-dir> <count> [first-seed]

Keeps a leading '%' text header (Prophesee RAW) intact and cycles through four damages: up to 64
random 16-bit words, a deletion of 1-8,192 bytes, a duplication of 1-8,192 bytes, a truncation.
The classify run of docs/benchmarks.md ("Damaged files through classify"):

  scripts/mutate.py ../shared/fixtures/expelliarmus/evt3_sample.raw /tmp/mut/evt3 600 5000
  for f in /tmp/mut/evt3/*; do /usr/bin/time -f "$f %e s" timeout 60 eventsnn classify "$f" --pooling 16 --json > /dev/null; done
"""
import os
import random
import sys

if len(sys.argv) < 4:
    sys.exit(__doc__)
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
seed0 = int(sys.argv[4]) if len(sys.argv) > 4 else 0
data = open(src, 'rb').read()
hdr = 0
while data[hdr:hdr + 1] == b'%':
    hdr = data.index(b'\n', hdr) + 1
os.makedirs(out, exist_ok=True)
for k in range(n):
    r = random.Random(seed0 + k)
    b = bytearray(data)
    kind = k % 4
    if kind == 0:    # random words
        for _ in range(r.randint(1, 64)):
            i = r.randrange(hdr, len(b) - 2) & ~1
            b[i] = r.randrange(256)
            b[i + 1] = r.randrange(256)
    elif kind == 1:  # delete a few kB
        i = r.randrange(hdr, len(b))
        del b[i:i + r.randint(1, 8192)]
    elif kind == 2:  # duplicate a few kB
        i = r.randrange(hdr, len(b))
        length = r.randint(1, 8192)
        b[i:i] = b[i:i + length]
    else:            # truncate
        b = b[:r.randrange(hdr, len(b))]
    with open(os.path.join(out, 'm%04d%s' % (seed0 + k, os.path.splitext(src)[1])), 'wb') as f:
        f.write(b)
