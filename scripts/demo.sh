#!/usr/bin/env bash
# Sets everything up and screens the bundled sample videos; prints where the results are.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/setup-env.sh ""
out="demo_output"
mkdir -p "$out"
status=0
for video in sample_videos/*.mp4 sample_videos/*.mov; do
  [ -e "$video" ] || continue
  name="$(basename "${video%.*}")"
  .venv/bin/screener analyze "$video" -o "$out/$name" --pdf || status=1
done
echo "results: $(pwd)/$out (one folder per video: report.html, report.pdf, handout.html, handout.pdf, frames.csv, events.csv, summary.json)"
exit $status
