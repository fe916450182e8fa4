#!/usr/bin/env bash
# Print the stack outputs the pipeline branches on, as name=value lines for $GITHUB_OUTPUT:
# live, candidate, image_blue, image_green, live_image, candidate_image, test_url,
# production_url. A stack that has never been deployed prints empty values.
# A stack in the services form (switchyard:services) exports each service's outputs under
# `services.<name>`: with one service those are read; with several this fails with one line
# naming them (deploy.yml's release steps take no --service: docs/pipeline.md).
#
#   stack-facts.sh <stack> >> "$GITHUB_OUTPUT"
set -euo pipefail

stack="${1:?usage: stack-facts.sh <stack>}"
if ! outputs="$(pulumi stack output --json --stack "$stack" 2>/dev/null)"; then
  echo "::notice::No outputs for stack $stack yet." >&2
  outputs="{}"
fi

node -e '
  let o = JSON.parse(process.argv[1] || "{}");
  if (o.services) {
    const names = Object.keys(o.services);
    if (names.length !== 1) {
      console.error(`::error::stack ${process.argv[2]} holds services ${names.join(", ")}: this pipeline releases a stack of one service; release each with the release tool and --service (docs/release-tool.md)`);
      process.exit(2);
    }
    o = { ...o.services[names[0]], productionUrl: o.productionUrl };
  }
  const images = o.images || {};
  const live = o.liveColor || "";
  const candidate = live === "blue" ? "green" : live === "green" ? "blue" : "";
  const facts = {
    live,
    candidate,
    image_blue: images.blue || "",
    image_green: images.green || "",
    live_image: (live && images[live]) || "",
    candidate_image: (candidate && images[candidate]) || "",
    test_url: o.testUrl || "",
    production_url: o.productionUrl || "",
  };
  for (const [k, v] of Object.entries(facts)) console.log(`${k}=${v}`);
' "$outputs" "$stack"
