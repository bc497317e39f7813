#!/usr/bin/env bash
# Builds tests/search/query_parser_fuzz.cc with clang++ and libFuzzer
# (ASan + UBSan) and runs it for a bounded time.
# Usage: run_query_fuzz.sh <source dir> <build dir> <seconds>
# Exit 77 (ctest: skipped) when clang++ or the fuzzer runtime is missing.
set -euo pipefail
src=$1
out=$2
seconds=${3:-20}
clangxx=$(command -v clang++ || true)
if [[ -z "$clangxx" ]]; then
  echo "clang++ not found: skipping the query parser fuzz run"
  exit 77
fi
bin="$out/query_parser_fuzz"
# Only the parsers: execution (search_index, aggregate) links the whole engine.
sources=("$src"/src/search/{schema,query,ft_args,arg_parsing}.cc "$src"/src/common/status.cc
         "$src"/tests/search/query_parser_fuzz.cc)
rebuild=0
[[ -x "$bin" ]] || rebuild=1
for f in "${sources[@]}" "$src"/src/search/*.h; do
  [[ "$f" -nt "$bin" ]] && rebuild=1
done
if (( rebuild )); then
  echo "building $bin"
  if ! "$clangxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=all -I"$src/src" "${sources[@]}" -o "$bin"; then
    if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long){return 0;}' |
        "$clangxx" -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
      echo "libFuzzer runtime missing (libclang-rt-14-dev): skipping"
      exit 77
    fi
    exit 1
  fi
fi
# Seeds go to a scratch corpus so that libFuzzer never writes into the tree.
corpus="$out/query_fuzz_corpus"
rm -rf "$corpus" && mkdir -p "$corpus"
i=0
while IFS= read -r line; do
  printf '%s' "$line" > "$corpus/seed$i"
  i=$((i + 1))
done < "$src/tests/search/query_fuzz_seeds.txt"
exec "$bin" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/" -print_final_stats=1 \
  -error_exitcode=1 -timeout_exitcode=1  # 77, libFuzzer's default, would read as "skipped"
