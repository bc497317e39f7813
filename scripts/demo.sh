#!/usr/bin/env bash
# The `make demo` story: ingest Debian's PostgreSQL manual (HTML) into a fresh
# embedded collection with the offline builtin embedder, then answer three
# questions with the extractive answerer and print the transcript.
#
#   scripts/demo.sh [path/to/ragkv]      (default: build/release/ragkv)
#
# Writes everything under ${RAGKV_DEMO_DIR:-build/demo}; the transcript ends
# up in $RAGKV_DEMO_DIR/transcript.txt.
set -euo pipefail

RAGKV=${1:-build/release/ragkv}
MANUAL=/usr/share/doc/postgresql-doc-15/html
DEMO_DIR=${RAGKV_DEMO_DIR:-build/demo}

if [[ ! -x "$RAGKV" ]]; then
  echo "demo: $RAGKV is not built; run \`make build\` first" >&2
  exit 1
fi
if [[ ! -d "$MANUAL" ]]; then
  echo "demo: $MANUAL is missing; install it with \`apt-get install postgresql-doc-15\`" >&2
  exit 1
fi

rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
DATA="$DEMO_DIR/data"

echo "==> ragkv ingest $MANUAL (builtin embedder, embedded store in $DATA)"
"$RAGKV" ingest "$MANUAL" --data "$DATA" --collection postgres --embedder builtin

cat > "$DEMO_DIR/questions.txt" <<'QUESTIONS'
What is the purpose of data replication?
Explain key-value databases with examples.
How does the AVL tree maintain balance?
QUESTIONS

echo
echo "==> ragkv ask --questions $DEMO_DIR/questions.txt (extractive answerer, no LLM)"
echo
"$RAGKV" ask --questions "$DEMO_DIR/questions.txt" --data "$DATA" --collection postgres \
  --out "$DEMO_DIR/transcript.txt" >/dev/null
cat "$DEMO_DIR/transcript.txt"
echo
echo "transcript written to $DEMO_DIR/transcript.txt"
