#!/usr/bin/env bash
# Side-by-side decode benchmark: expelliarmus's C decoders (gcc -O3 -march=native) against
# `eventsnn bench decode`, on the same files, alternating, one core each.
#   scripts/expelliarmus-bench/run.sh <expelliarmus-source-dir> <eventsnn> <dir-with-files> [rounds]
# <dir-with-files> holds evt2.raw, evt3.raw and b.dat, e.g. the files of
# `eventsnn bench decode --generate evt2|evt3|dat --events 50000000 --out DIR --keep`, renamed.
set -euo pipefail
src=${1:?expelliarmus source directory (the one holding expelliarmus/src)}
eventsnn=${2:?path to the eventsnn executable}
dir=${3:?folder with evt2.raw, evt3.raw, b.dat}
rounds=${4:-3}
here=$(cd "$(dirname "$0")" && pwd)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
gcc -O3 -march=native -I "$src/expelliarmus/src" -o "$build/harness" "$here/harness.c" \
    "$src/expelliarmus/src/evt2.c" "$src/expelliarmus/src/evt3.c" "$src/expelliarmus/src/dat.c" "$src/expelliarmus/src/wizard.c"
for r in $(seq 1 "$rounds"); do
  for f in evt2:evt2.raw evt3:evt3.raw dat:b.dat; do
    fmt=${f%%:*}; file="$dir/${f#*:}"
    c=$("$build/harness" "$fmt" "$file" 5)
    e=$("$eventsnn" bench decode "$file" --format "$fmt" --repeat 5 --json)
    m=$("$eventsnn" bench decode "$file" --format "$fmt" --repeat 5 --mmap --json)
    python3 - "$fmt" "$c" "$e" "$m" <<'PY'
import json, sys
fmt, c, e, m = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
ce, ee, me = c["events_per_second"] / 1e6, e["events_per_second"] / 1e6, m["events_per_second"] / 1e6
print(f"{fmt}: expelliarmus {ce:.0f} M ev/s; eventsnn {ee:.0f} ({ee/ce:.2f}x), with --mmap {me:.0f} ({me/ce:.2f}x)")
PY
  done
done
