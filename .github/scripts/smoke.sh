#!/usr/bin/env bash
# Smoke test of one colour through a listener URL.
#
#   smoke.sh <base-url> [expected-color] [expected-build]
#
# GET /healthz must answer 200 and GET /version must be JSON whose `color` (and `build`, when
# given) match. curl retries while new tasks register with the target group.
set -euo pipefail

base="${1:?usage: smoke.sh <base-url> [expected-color] [expected-build]}"
base="${base%/}"
expected_color="${2:-}"
expected_build="${3:-}"
curl_opts=(--fail --silent --show-error --location --max-time 10
  --retry 20 --retry-delay 6 --retry-all-errors --retry-connrefused)

echo "GET $base/healthz"
curl "${curl_opts[@]}" --output /dev/null "$base/healthz"

echo "GET $base/version"
version_json="$(curl "${curl_opts[@]}" "$base/version")"
echo "$version_json"

EXPECTED_COLOR="$expected_color" EXPECTED_BUILD="$expected_build" node -e '
  const v = JSON.parse(process.argv[1]);
  const problems = [];
  if (typeof v.build !== "string" || v.build === "") problems.push("/version has no build");
  if (process.env.EXPECTED_BUILD && v.build !== process.env.EXPECTED_BUILD)
    problems.push(`/version build is ${v.build}, expected ${process.env.EXPECTED_BUILD}`);
  if (process.env.EXPECTED_COLOR && v.color !== process.env.EXPECTED_COLOR)
    problems.push(`/version color is ${v.color}, expected ${process.env.EXPECTED_COLOR}`);
  if (problems.length) { for (const p of problems) console.log(`::error::${p}`); process.exit(1); }
  console.log("smoke test passed");
' "$version_json"
