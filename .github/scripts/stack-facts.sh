#!/usr/bin/env bash
# Print the stack outputs the pipeline branches on, as name=value lines for $GITHUB_OUTPUT:
# live, candidate, image_blue, image_green, live_image, candidate_image, test_url,
# production_url. A stack that has never been deployed prints empty values.
#
#   stack-facts.sh <stack> >> "$GITHUB_OUTPUT"
set -euo pipefail

stack="${1:?usage: stack-facts.sh <stack>}"
if ! outputs="$(pulumi stack output --json --stack "$stack" 2>/dev/null)"; then
  echo "::notice::No outputs for stack $stack yet." >&2
  outputs="{}"
fi

node -e '
  const o = JSON.parse(process.argv[1] || "{}");
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
' "$outputs"
