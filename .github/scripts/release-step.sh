#!/usr/bin/env bash
# One release step outside rollout: rollback.yml's, and the net's after a rollout that did not end
# cleanly. The release tool's edit is committed and pushed ([skip ci], commit-step.sh), then
# `switchyard sync` applies the stack file as it is through rollout-step.sh (pulumi up of that
# commit with --refresh, then verify).
#
#   release-step.sh <stack> <release tool arguments...>     e.g. release-step.sh dev rollback --stack dev
#
# An edit with nothing left to do exits 0 and commits nothing (a rollback rollout already wrote but
# could not apply, exit 3): sync still applies the file, so what the file says reaches AWS.
set -euo pipefail

stack="${1:?usage: release-step.sh <stack> <release tool arguments...>}"
shift
here="$(cd "$(dirname "$0")" && pwd)"

npm run switchyard -- "$@"
"$here/commit-step.sh" "switchyard($stack): $*" "Pulumi.$stack.yaml"
npm run switchyard -- sync --stack "$stack" --apply "$here/rollout-step.sh"
