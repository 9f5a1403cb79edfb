#!/usr/bin/env bash
# Puts the lab report of this job (reports/<run-id>/report.md, written by `npm run labs`) on the run's summary page,
# so a reader sees which steps passed, which image each lab really used and any emulation without opening the log.
set -euo pipefail
shopt -s nullglob

reports=(reports/*/report.md)
junit=(reports/*/junit.xml)
{
  if ((${#reports[@]} > 0)); then
    for report in "${reports[@]}"; do
      cat "$report"
      echo
    done
  else
    echo "No lab report was written: the run stopped before the reporter did. The step log says why."
  fi
  if ((${#junit[@]} > 0)); then
    echo "JUnit results (${junit[*]}) and screenshots are in this job's artifact."
  fi
} >>"$GITHUB_STEP_SUMMARY"
