#!/usr/bin/env bash
# Build the dlquiz image and smoke-test it with a local Docker engine. CI does not run this (CI
# needs no Docker); run it by hand before a release or after touching the Dockerfile:
#
#   scripts/docker-smoke.sh
#
# Where no image registry is reachable, make the base image first: scripts/make-local-base.sh.
# Everything runs on this machine only: containers use the host's network and talk to each other
# on 127.0.0.1 (the Slack check answers the bot's Web API calls with a stub; nothing reaches Slack).
#
# Environment:
#   IMAGE              tag to build and test (default dlquiz:local)
#   DOCKER_BUILD_FLAGS extra `docker build` flags (default: --network host)
#   SKIP_BUILD=1       test an image that is already built
#   SLACK_CHECK=0      skip the Slack HTTP-mode check (/healthz, HEALTHCHECK, SIGTERM)
#   SLACK_PORT, STUB_PORT  loopback ports for that check (default 38300 and 38301)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${IMAGE:-dlquiz:local}"
read -r -a BUILD_FLAGS <<<"${DOCKER_BUILD_FLAGS:---network host}"
SLACK_PORT="${SLACK_PORT:-38300}"
STUB_PORT="${STUB_PORT:-38301}"
RUN_ID="dlquiz-smoke-$$"
VOLUME="$RUN_ID-data"
SLACK_VOLUME="$RUN_ID-slack-data"  # a fresh one: the bot must create its database at start

step() { printf '\n== %s\n' "$*"; }
fail() { echo "docker-smoke: FAIL: $*" >&2; exit 1; }

cleanup() {
    docker rm -f -v "$RUN_ID-slack" "$RUN_ID-stub" >/dev/null 2>&1 || true
    docker volume rm -f "$VOLUME" "$SLACK_VOLUME" >/dev/null 2>&1 || true
}
trap cleanup EXIT

docker info >/dev/null 2>&1 || fail "no Docker engine answers (start dockerd)"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    step "build $IMAGE"
    base="$(sed -n 's/^FROM \([^ ]*\).*/\1/p' Dockerfile | head -n1)"
    docker image inspect "$base" >/dev/null 2>&1 || docker pull "$base" \
        || fail "base image $base is not here and cannot be pulled: run scripts/make-local-base.sh"
    docker build "${BUILD_FLAGS[@]}" -t "$IMAGE" .
fi
docker image ls "$IMAGE" --format 'image {{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'
docker volume create "$VOLUME" >/dev/null

step "content check"
out="$(docker run --rm "$IMAGE" content check)" || fail "content check exited $?"
printf '%s\n' "$out" | head -n 3
grep -q '^ok: ' <<<"$out" || fail "content check did not say ok"

step "runs as a non-root user"
uid="$(docker run --rm --entrypoint id "$IMAGE" -u)"
echo "uid $uid"
[ "$uid" != 0 ] || fail "the image runs as root"

step "health before the bot has run: one line, non-zero"
if out="$(docker run --rm -v "$VOLUME:/data" "$IMAGE" health 2>&1)"; then
    fail "health passed without a database"
fi
echo "$out"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "health printed more than one line"

step "a piped console round (creates /data/dlquiz.db in the volume)"
out="$(printf '/dlquiz post\nB\n/dlquiz reveal\n' \
    | docker run --rm -i -v "$VOLUME:/data" "$IMAGE" console 2>&1)" || fail "console exited $?"
echo "$out"
grep -q 'Recorded: B' <<<"$out" || fail "the answer was not recorded"
grep -q '^Answer to question #1' <<<"$out" || fail "no reveal"
! grep -qi 'traceback\|warning' <<<"$out" || fail "the console printed a traceback or a warning"

step "health"
docker run --rm -v "$VOLUME:/data" "$IMAGE" health || fail "health exited $?"

step "time zones (no system tz database: the tzdata package)"
out="$(printf '/dlquiz schedule 09:00 Europe/Berlin\n/dlquiz schedule 09:00 Mars/Olympus\n' \
    | docker run --rm -i -v "$VOLUME:/data" "$IMAGE" console 2>&1)"
grep -E 'Europe/Berlin|Mars/Olympus' <<<"$out"
grep -q '^Daily question at 09:00 Europe/Berlin' <<<"$out" || fail "Europe/Berlin was not accepted"
grep -q "unknown time zone 'Mars/Olympus'" <<<"$out" || fail "Mars/Olympus was not refused"

step "db backup, then restore it as docs/operations.md says"
docker run --rm -v "$VOLUME:/data" "$IMAGE" db backup /data/backup.db || fail "backup exited $?"
docker run --rm -v "$VOLUME:/data" --entrypoint sh "$IMAGE" -c \
    'cp /data/backup.db /data/dlquiz.db && rm -f /data/dlquiz.db-wal /data/dlquiz.db-shm && ls -l /data'
docker run --rm -v "$VOLUME:/data" "$IMAGE" health || fail "health after the restore exited $?"

step "the default command (run discord) without a token: one line, non-zero"
if out="$(docker run --rm -v "$VOLUME:/data" "$IMAGE" 2>&1)"; then
    fail "run discord started without DISCORD_TOKEN"
fi
echo "$out"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "run discord printed more than one line"

if [ "${SLACK_CHECK:-1}" = 1 ]; then
    step "run slack in HTTP mode against a stub Web API: /healthz, HEALTHCHECK, JSON logs, SIGTERM"
    # The stub answers every Web API method with ok (auth.test with a bot identity), on loopback.
    docker run -d --name "$RUN_ID-stub" --network host --entrypoint python "$IMAGE" -c '
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class Stub(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = {"ok": True}
        if self.path.endswith("/auth.test"):
            body.update(user="dlquiz", user_id="U0SMOKE", team="Smoke", team_id="T0SMOKE",
                        bot_id="B0SMOKE", url="https://smoke.invalid/")
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
HTTPServer(("127.0.0.1", int(sys.argv[1])), Stub).serve_forever()
' "$STUB_PORT" >/dev/null
    secret_token="xoxb-smoke-secret-token-0123456789"
    docker run -d --name "$RUN_ID-slack" --network host -v "$SLACK_VOLUME:/data" \
        -e SLACK_BOT_TOKEN="$secret_token" -e SLACK_SIGNING_SECRET=smoke-signing-secret \
        -e SLACK_API_URL="http://127.0.0.1:$STUB_PORT/api/" -e DLQUIZ_LOG_FORMAT=json \
        --health-interval 2s --health-start-period 30s \
        "$IMAGE" run slack --port "$SLACK_PORT" >/dev/null
    status=""
    for _ in $(seq 1 45); do
        status="$(docker inspect -f '{{.State.Health.Status}}' "$RUN_ID-slack" 2>/dev/null || true)"
        [ "$status" = healthy ] && break
        [ "$(docker inspect -f '{{.State.Running}}' "$RUN_ID-slack")" = true ] || break
        sleep 1
    done
    echo "container health: ${status:-none}"
    docker inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}' "$RUN_ID-slack" \
        | tail -n 2
    [ "$status" = healthy ] || { docker logs "$RUN_ID-slack"; fail "the Slack container is not healthy"; }
    docker exec "$RUN_ID-slack" python -c "
import urllib.request
r = urllib.request.urlopen('http://127.0.0.1:$SLACK_PORT/healthz', timeout=5)
print('GET /healthz', r.status, r.read().decode())
" || fail "GET /healthz failed"
    docker stop -t 45 "$RUN_ID-slack" >/dev/null
    code="$(docker inspect -f '{{.State.ExitCode}}' "$RUN_ID-slack")"
    logs="$(docker logs "$RUN_ID-slack" 2>&1)"
    echo "$logs"
    echo "exit code after docker stop: $code"
    [ "$code" = 0 ] || fail "the Slack container exited $code on SIGTERM"
    docker run --rm -i --entrypoint python "$IMAGE" -c '
import json, sys
lines = [line for line in sys.stdin if line.strip()]
for line in lines:
    json.loads(line)
print(f"{len(lines)} log lines, each one JSON object")
' <<<"$logs" || fail "a log line is not JSON"
    ! grep -q "$secret_token" <<<"$logs" || fail "the bot token appears in the logs"
fi

printf '\ndocker-smoke: all checks passed (%s)\n' "$IMAGE"
