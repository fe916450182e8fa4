#!/usr/bin/env bash
# Smoke test of one colour through a listener URL.
#
#   [SMOKE_TLS_HOST=www.example.com] smoke.sh <base-url> [expected-color] [expected-build]
#
# GET /healthz must answer 200 and GET /version must be JSON whose `color` (and `build`, when
# given) match. curl retries while new tasks register with the target group.
#
# Over HTTPS (the testUrl of a stack with switchyard:https) the certificate names your domain,
# never the ALB's *.elb.amazonaws.com name, so calling the ALB's name fails verification. With
# SMOKE_TLS_HOST (a name the certificate covers) curl calls https://<that name>:<port> and connects
# to the ALB from the URL for it (--connect-to): the certificate is verified as users see it.
# Without it an https URL is refused here with one line; nothing is checked with -k.
set -euo pipefail

base="${1:?usage: smoke.sh <base-url> [expected-color] [expected-build]}"
base="${base%/}"
expected_color="${2:-}"
expected_build="${3:-}"
curl_opts=(--fail --silent --show-error --location --max-time 10
  --retry 20 --retry-delay 6 --retry-all-errors --retry-connrefused)

if [[ "$base" == https://* ]]; then
  tls_host="${SMOKE_TLS_HOST:-}"
  if [ -z "$tls_host" ]; then
    echo "::error::$base is HTTPS and its certificate names your domain, not the load balancer: set the repository variable SMOKE_TLS_HOST to a host name the certificate covers (docs/pipeline.md)."
    exit 1
  fi
  authority="${base#https://}"
  path_part=""
  if [[ "$authority" == */* ]]; then path_part="/${authority#*/}"; authority="${authority%%/*}"; fi
  alb_host="${authority%%:*}"
  port=443
  if [[ "$authority" == *:* ]]; then port="${authority##*:}"; fi
  curl_opts+=(--connect-to "$tls_host:$port:$alb_host:$port")
  base="https://$tls_host:$port$path_part"
fi

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
