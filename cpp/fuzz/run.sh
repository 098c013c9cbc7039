#!/usr/bin/env bash
# Run every libFuzzer harness of BUILD for SECONDS each (ASan + UBSan are built in), starting from the committed
# seeds and the regression inputs, growing WORK/<harness>/ as the corpus. Prints one line per harness with its
# executions, coverage and crashes; exits 1 if any harness found a crash (its input is in WORK/crashes/).
#   cpp/fuzz/run.sh BUILD WORK SECONDS
set -u
build=$1 work=$2 seconds=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work/crashes"
status=0
for spec in fuzz_engine:cpp/tests/data fuzz_verifier:cpp/fuzz/corpus/verifier fuzz_sensor_adapter:cpp/fuzz/corpus/sensor_adapter; do
  name=${spec%%:*} seeds=$root/${spec#*:}
  mkdir -p "$work/$name" "$root/cpp/fuzz/regressions/$name"
  log=$work/$name.log
  "$build/$name" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 -timeout=10 \
    -artifact_prefix="$work/crashes/$name-" "$work/$name" "$seeds" "$root/cpp/fuzz/regressions/$name" > "$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1)
  crashes=$(ls "$work/crashes" 2>/dev/null | grep -c "^$name-" || true)
  echo "fuzz: $name: ${execs:-0} executions in ${seconds} s, ${cov:-cov: ?}, ${crashes} crash(es)"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    status=1
    grep -E 'ERROR|SUMMARY|^==' "$log" | head -20
  fi
done
exit $status
