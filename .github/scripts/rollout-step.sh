#!/usr/bin/env bash
# The `--apply` of `switchyard rollout` in the deploy workflow (and of `switchyard sync` in
# release-step.sh): one release step is one commit on
# main (pushed by commit-step.sh, with its loop guards), then `pulumi up` of that commit in this
# same job and `switchyard verify`, so every traffic change is reviewable and revertible in git
# history and counts only once AWS says what the file says.
#
#   SWITCHYARD_STACK, SWITCHYARD_STEP: set by rollout for each step (e.g. dev, "canary 10"), and by
#   sync (SWITCHYARD_STEP=sync).
# A non-zero exit fails the step; rollout then rolls back (by running this script again for the
# rollback edit).
set -euo pipefail

stack="${SWITCHYARD_STACK:?run me as: switchyard rollout --apply $0}"
step="${SWITCHYARD_STEP:?run me as: switchyard rollout --apply $0}"

"$(dirname "$0")/commit-step.sh" "switchyard($stack): $step" "Pulumi.$stack.yaml"
# finish refreshes first: while autoscaled, the old colour's desiredCount was ignored, so the state
# may hold the count it will be scaled to and pulumi would see no change without the real count.
# sync refreshes too (as its Automation API apply does): it follows an apply that failed or was killed.
refresh=()
if [ "$step" = finish ] || [ "$step" = sync ]; then refresh=(--refresh); fi
# Another update of the stack in progress (another service's rollout step, a person's pulumi up)
# is exit 75, which rollout and sync wait out and retry (lib/rollout/apply.ts CONCURRENT_UPDATE_EXIT)
# instead of reading it as a failed step. The texts are pulumi's own, as its Automation API matches
# them (@pulumi/pulumi automation/errors.js: the Pulumi Cloud 409 and the DIY backend's lock).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! pulumi up --yes --skip-preview "${refresh[@]}" --stack "$stack" --message "switchyard rollout: $step" 2>&1 | tee "$log"; then
  if grep -qF -e "[409] Conflict: Another update is currently in progress." -e "the stack is currently locked by" "$log"; then
    exit 75
  fi
  exit 1
fi
# The step counts only when AWS now says what the file says (weights, test listener, health).
npm run switchyard -- verify --stack "$stack"
