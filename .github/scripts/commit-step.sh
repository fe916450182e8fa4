#!/usr/bin/env bash
# Commit one release step (the stack file the release tool just edited) and push it to main.
#
#   commit-step.sh "<subject>" <path>...
#
# Loop avoidance: the pipeline applies the commit itself (`pulumi up` in the same job), so the
# push must not start another deploy run. Two independent guards make sure it does not:
#   1. the subject ends in "[skip ci]", which GitHub honours for push events whatever token
#      pushed (it matters if you swap GITHUB_TOKEN for a GitHub App token to pass branch
#      protection: App-token pushes do trigger workflows);
#   2. pushes made with the default GITHUB_TOKEN never trigger workflow runs.
# If main moved meanwhile (a human merge), the step is rebased on top and the push retried; the
# merge's own deploy run waits on the same concurrency group and applies the combined state.
set -euo pipefail

subject="$1"
shift

git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"

if git diff --quiet -- "$@"; then
  echo "::notice::$subject: the release tool changed nothing; no commit."
  exit 0
fi

git add -- "$@"
git commit --quiet \
  -m "$subject [skip ci]" \
  -m "Applied by ${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-?}/actions/runs/${GITHUB_RUN_ID:-?}" \
  -- "$@"

for attempt in 1 2 3 4 5; do
  if git push origin HEAD:main; then
    echo "Pushed $(git rev-parse --short HEAD): $subject"
    exit 0
  fi
  echo "Push rejected (attempt $attempt); rebasing on origin/main."
  git pull --rebase --autostash origin main
  sleep $((attempt * 2))
done
echo "::error::Could not push '$subject' to main (branch protection? see docs/pipeline.md)."
exit 1
