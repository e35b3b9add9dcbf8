#!/usr/bin/env bash
# Coverage-guided fuzzing of the readers and live-protocol decoders with SharpFuzz + afl++.
#
#   fuzz/run.sh <target|all> <seconds>      e.g. fuzz/run.sh evt3 120, fuzz/run.sh all 60
#
# Publishes fuzz/EventSnn.Fuzz, instruments EventSnn.Events/IO/Pipeline with the SharpFuzz tool
# (fuzz/dotnet-tools.json), then runs afl-fuzz for <seconds> per target, seeded from
# fuzz/corpus/<target>/ and the heads of the shared fixtures (cut at run time). Findings go to fuzz/findings/<target>/ (not committed); crashes and
# hangs are copied to fuzz/findings/reproducers/<target>/ and one line per target is appended to
# fuzz/findings/summary.tsv (target, seconds, executions, execs/s, corpus, crashes, hangs).
# Copy a reproducer you fixed into fuzz/regressions/<target>/: the test suite replays it.
#
# Needs afl++ (Debian: apt-get install afl++) and the .NET SDK. Runs nice'd on one core.
set -euo pipefail
cd "$(dirname "$0")"

usage() { echo "usage: fuzz/run.sh <target|all> <seconds>" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
target=$1
seconds=$2
[[ $seconds =~ ^[0-9]+$ ]] || usage
command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 2; }

build=build/bin
findings=findings
rm -rf build
nice -n 15 dotnet publish EventSnn.Fuzz -c Release -o "$build" --nologo -v quiet >/dev/null

# seeds: fuzz/corpus (generated files) plus the heads of the shared fixtures, cut at run time
# (they are never stored in the repository; written before instrumenting: instrumented code runs
# only under afl-fuzz); FIXTURES overrides ../../shared/fixtures
fixtures=${FIXTURES:-../../shared/fixtures}
if [[ -d $fixtures ]]; then
  dotnet "$build/EventSnn.Fuzz.dll" seeds "$fixtures" build/seeds >/dev/null
else
  echo "note: $fixtures not found: seeding from fuzz/corpus only" >&2
fi

nice -n 15 dotnet tool restore >/dev/null
for dll in EventSnn.Events.dll EventSnn.IO.dll EventSnn.Pipeline.dll; do
  nice -n 15 dotnet tool run sharpfuzz "$build/$dll" >/dev/null
done

mapfile -t targets < <(dotnet "$build/EventSnn.Fuzz.dll" list)
if [[ $target != all ]]; then
  printf '%s\n' "${targets[@]}" | grep -qx -- "$target" || { echo "unknown target '$target'; targets: ${targets[*]}" >&2; exit 2; }
  targets=("$target")
fi

mkdir -p "$findings"
[[ -f $findings/summary.tsv ]] || printf 'target\tseconds\texecutions\texecs_per_s\tcorpus\tcrashes\thangs\n' > "$findings/summary.tsv"

# AFL settings for a shared machine and an uninstrumented host binary (dotnet): no CPU binding,
# no CPU-governor or core-pattern demands, plain status lines instead of the curses UI.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
export DOTNET_TieredPGO=0 DOTNET_TC_QuickJitForLoops=1 DOTNET_gcServer=0

for t in "${targets[@]}"; do
  out=$findings/$t
  rm -rf "$out"
  mkdir -p "build/seeds/$t"
  cp -n "corpus/$t"/* "build/seeds/$t/" 2>/dev/null || true
  echo "== $t: ${seconds} s" >&2
  nice -n 15 afl-fuzz -V "$seconds" -i "build/seeds/$t" -o "$out" -t 10000 -m none -- dotnet "$build/EventSnn.Fuzz.dll" "$t" 2>&1 | tail -n 60 > "$out.log" || {
    echo "afl-fuzz failed for $t (see fuzz/$out.log)" >&2; tail -20 "$out.log" >&2; exit 1; }
  stats=$out/default/fuzzer_stats
  stat() { awk -F' *: *' -v k="$1" '$1==k {print $2}' "$stats"; }
  execs=$(stat execs_done); speed=$(stat execs_per_sec); corpus=$(stat corpus_count)
  crashes=$(stat saved_crashes); hangs=$(stat saved_hangs)
  mkdir -p "$findings/reproducers/$t"
  for kind in crashes hangs; do
    for f in "$out/default/$kind"/id:*; do
      [[ -e $f ]] && cp "$f" "$findings/reproducers/$t/$kind-$(basename "$f" | cut -d, -f1 | tr ':' '-')"
    done
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$seconds" "$execs" "$speed" "$corpus" "$crashes" "$hangs" | tee -a "$findings/summary.tsv"
done
