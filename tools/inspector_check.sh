#!/usr/bin/env bash
# rtk-mcp as seen by the official MCP Inspector CLI (a real MCP client, not our own SDK).
#
#   tools/inspector_check.sh            # from the checkout, after `pip install -e .` into .venv
#   RTK_MCP=/path/to/rtk-mcp tools/inspector_check.sh
#
# Needs the npm registry (npx fetches Node 22 and the Inspector; Inspector 2.x needs Node >= 22.19,
# so node@22 comes through npx whatever `node` is installed). Not part of the pytest run.
# Checks, over stdio against the offline sandbox:
#   1. tools/list returns 53 tools;
#   2. tools/call list_apps succeeds (exit 0, isError false);
#   3. tools/call with --tool-arg (list_meetings per_page=2) succeeds and pages;
#   4. tools/call get_meeting on an unknown id is reported as an error (exit != 0, isError true);
#   5. an invalid argument is reported as an error too;
# and over Streamable HTTP (rtk-mcp --transport http, with a bearer token):
#   6. tools/list with the token returns 53 tools; without it the Inspector fails to connect.
set -uo pipefail

cd "$(dirname "$0")/.."
RTK_MCP=${RTK_MCP:-.venv/bin/rtk-mcp}
PYTHON=${PYTHON:-.venv/bin/python}
INSPECTOR=(npx -y -p node@22 -p @modelcontextprotocol/inspector@2.12.0 -- mcp-inspector --cli)
EXPECTED_TOOLS=53
failures=0
work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "PASS  $*"; }
bad() { echo "FAIL  $*"; failures=$((failures + 1)); }

# inspect NAME ARGS...: runs the Inspector, keeps stdout/stderr/exit code in $work/NAME.*
inspect() {
  local name=$1
  shift
  "${INSPECTOR[@]}" "$@" --format json >"$work/$name.out" 2>"$work/$name.err"
  echo $? >"$work/$name.rc"
}
rc() { cat "$work/$1.rc"; }
json() { "$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$work/$1.out" 2>/dev/null; }

echo "== MCP Inspector CLI against: $RTK_MCP --sandbox (stdio)"

inspect list "$RTK_MCP" --sandbox --method tools/list
count=$(json list 'len(d["result"]["tools"])')
if [[ $(rc list) == 0 && $count == "$EXPECTED_TOOLS" ]]; then
  ok "tools/list: $count tools"
else
  bad "tools/list: exit $(rc list), $count tools (expected $EXPECTED_TOOLS)"; cat "$work/list.err"
fi
grep -h "portability" "$work/list.err" | sed 's/^/      inspector: /'

inspect apps "$RTK_MCP" --sandbox --method tools/call --tool-name list_apps
if [[ $(rc apps) == 0 && $(json apps 'd["result"].get("isError")') == False ]]; then
  ok "tools/call list_apps: $(json apps 'len(d["result"]["structuredContent"]["data"])') app(s), isError false"
else
  bad "tools/call list_apps: exit $(rc apps)"; cat "$work/apps.out" "$work/apps.err"
fi

inspect meetings "$RTK_MCP" --sandbox --method tools/call --tool-name list_meetings --tool-arg per_page=2
if [[ $(rc meetings) == 0 && $(json meetings 'len(d["result"]["structuredContent"]["data"])') == 2 ]]; then
  ok "tools/call list_meetings --tool-arg per_page=2: 2 meetings, paging $(json meetings 'd["result"]["structuredContent"]["paging"]["total_count"]') total"
else
  bad "tools/call list_meetings per_page=2: exit $(rc meetings)"; cat "$work/meetings.out" "$work/meetings.err"
fi

inspect notfound "$RTK_MCP" --sandbox --method tools/call --tool-name get_meeting --tool-arg meeting_id=no-such-meeting
if [[ $(rc notfound) != 0 && $(json notfound 'd["result"]["isError"]') == True ]]; then
  ok "tools/call get_meeting (unknown id) reported as an error: exit $(rc notfound), \"$(json notfound 'd["result"]["content"][0]["text"][:70]')...\""
else
  bad "tools/call get_meeting (unknown id) not reported as an error: exit $(rc notfound)"; cat "$work/notfound.out"
fi

inspect invalid "$RTK_MCP" --sandbox --method tools/call --tool-name list_meetings --tool-arg per_page=0
if [[ $(rc invalid) != 0 && $(json invalid 'd["result"]["isError"]') == True ]]; then
  ok "tools/call list_meetings per_page=0 reported as an error: exit $(rc invalid), \"$(json invalid 'd["result"]["content"][0]["text"][:70]')...\""
else
  bad "tools/call list_meetings per_page=0 not reported as an error: exit $(rc invalid)"; cat "$work/invalid.out"
fi

echo "== MCP Inspector CLI against: $RTK_MCP --sandbox --transport http (bearer token)"
port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))')
RTK_MCP_HTTP_TOKEN=$token "$RTK_MCP" --sandbox --transport http --port "$port" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
url="http://127.0.0.1:$port/mcp"
inspect http "$url" --transport http --header "Authorization: Bearer $token" --method tools/list
count=$(json http 'len(d["result"]["tools"])')
if [[ $(rc http) == 0 && $count == "$EXPECTED_TOOLS" ]]; then
  ok "http tools/list with the token: $count tools"
else
  bad "http tools/list with the token: exit $(rc http), $count tools"; cat "$work/http.err" "$work/server.err"
fi
inspect noauth "$url" --transport http --method tools/list --stored-auth-only --connect-timeout 5000
if [[ $(rc noauth) != 0 ]] && grep -q unauthorized "$work/noauth.out" "$work/noauth.err"; then
  ok "http tools/list without the token refused (401): exit $(rc noauth), $(grep -oh '"code":"[a-z_]*"' "$work/noauth.out" "$work/noauth.err" | head -1)"
else
  bad "http tools/list without the token succeeded"
fi

echo
if [[ $failures == 0 ]]; then
  echo "inspector check: all passed"
else
  echo "inspector check: $failures failed"
fi
exit $((failures > 0))
