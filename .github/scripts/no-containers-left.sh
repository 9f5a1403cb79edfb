#!/usr/bin/env bash
# Fails the job if the run left any container on the engine, running or stopped. testcontainers labels what it
# creates org.testcontainers=true; the suite labels what it creates labs.run=<run id>. Either label counts.
set -euo pipefail

format='{{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Label "labs.run"}}'
left=$(
  {
    docker ps --all --filter label=org.testcontainers=true --format "$format"
    docker ps --all --filter label=labs.run --format "$format"
  } | sort -u |
    # Ryuk, testcontainers' reaper, outlives the test process by design and removes itself seconds later.
    # It is not waited for: it would also reap the very containers this check is meant to catch.
    { grep -v '^testcontainers-ryuk-' || true; }
)

if [ -n "$left" ]; then
  echo "::error title=Containers left behind::$(wc -l <<<"$left") container(s) are still on the engine after the run"
  printf 'NAME\tIMAGE\tSTATUS\tLABS RUN\n%s\n' "$left"
  exit 1
fi
echo "no lab or testcontainers container is left on the engine"
