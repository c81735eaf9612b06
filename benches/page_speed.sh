#!/usr/bin/env bash
# Page speed against the ceiling: wrk (64 connections, 2 threads, 10 s) on a student's quiz
# page, which reads the student's attempt from the database, and on a static file served by the
# same binary in the same run; then the teacher's class dashboard. Prints requests per second,
# p99 and the page-to-static ratio. Needs wrk (apt-get install -y wrk) and a release build:
#   cargo build --release && bash benches/page_speed.sh
# TELLWISE_BIN picks another binary; PAGE_SPEED_SECONDS the duration of each run;
# PAGE_SPEED_DATABASE_URL an empty PostgreSQL or MariaDB database instead of a new SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TELLWISE_BIN:-target/release/tellwise}
seconds=${PAGE_SPEED_SECONDS:-10}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk"; exit 1; }
[[ -x $bin ]] || { echo "no binary at $bin: cargo build --release"; exit 1; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export TELLWISE_DATA_DIR=$work TELLWISE_PORT=$port TELLWISE_PURGE_AUTOMATICALLY=false RUST_LOG=warn
# wrk sends one account's requests as fast as it can: lift the per-account budgets.
export TELLWISE_WRITES_PER_MINUTE=1000000 TELLWISE_REPORTS_PER_MINUTE=1000000
if [[ -n ${PAGE_SPEED_DATABASE_URL:-} ]]; then
  export TELLWISE_DATABASE_URL=$PAGE_SPEED_DATABASE_URL
else
  unset TELLWISE_DATABASE_URL
fi
database=$(case ${TELLWISE_DATABASE_URL:-sqlite} in postgres*) echo PostgreSQL ;; mysql* | mariadb*) echo MariaDB ;; *) echo SQLite ;; esac)
password="page speed password 9"
printf '%s\n' "$password" | $bin create-admin --email speed@school.test --name "Speed Admin" >/dev/null
$bin serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
base=http://127.0.0.1:$port
for _ in $(seq 50); do curl -sf "$base/health/ready" >/dev/null && break; sleep 0.1; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
token=$(curl -sf -X POST "$base/api/v1/tokens" -H 'Content-Type: application/json' \
  -d "{\"email\":\"speed@school.test\",\"password\":\"$password\"}" | json '["data"]["token"]')
api() { curl -sf -X "$1" "$base$2" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
class=$(api POST /api/v1/classes '{"name":"Speed","tier":"6-8"}')
class_id=$(echo "$class" | json '["data"]["id"]')
code=$(echo "$class" | json '["data"]["join_code"]')
names=$(python3 -c 'import json; print(json.dumps({"names": ["Student %d" % i for i in range(25)]}))')
student=$(api POST "/api/v1/classes/$class_id/students" "$names" | json '["data"][0]')
name=$(python3 -c "import ast; print(ast.literal_eval('''$student''')['name'])")
secret=$(python3 -c "import ast; print(ast.literal_eval('''$student''')['secret'])")
module=fake-profiles
api POST "/api/v1/classes/$class_id/assignments" "{\"module\":\"$module\"}" >/dev/null

# The student signs in and starts the module, as a browser would.
jar=$work/cookies
csrf() { grep -o 'name="csrf_token" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//'; }
token_field=$(curl -sf -c "$jar" -b "$jar" "$base/student/login" | csrf)
curl -sf -o /dev/null -c "$jar" -b "$jar" "$base/student/login" \
  --data-urlencode "csrf_token=$token_field" --data-urlencode "code=$code" \
  --data-urlencode "name=$name" --data-urlencode "secret=$secret"
token_field=$(curl -sf -c "$jar" -b "$jar" "$base/student/modules/$module" | csrf)
curl -sf -o /dev/null -c "$jar" -b "$jar" "$base/student/modules/$module/start" \
  --data-urlencode "csrf_token=$token_field"
cookie=$(sed 's/^#HttpOnly_//' "$jar" | awk '!/^#/ && NF >= 7 { printf "%s=%s; ", $6, $7 }')
page="/student/modules/$module/before/1"
status=$(curl -s -o "$work/page.html" -w '%{http_code}' -H "Cookie: $cookie" "$base$page")
[[ $status == 200 ]] || { echo "the quiz page answered $status"; exit 1; }

# The teacher's dashboard, as the administrator (who sees every class).
staff_csrf=$(curl -sf -c "$jar.staff" -b "$jar.staff" "$base/login" | csrf)
curl -sf -o /dev/null -c "$jar.staff" -b "$jar.staff" "$base/login" \
  --data-urlencode "csrf_token=$staff_csrf" --data-urlencode "email=speed@school.test" \
  --data-urlencode "password=$password"
staff_cookie=$(sed 's/^#HttpOnly_//' "$jar.staff" | awk '!/^#/ && NF >= 7 { printf "%s=%s; ", $6, $7 }')

static=/static/app.js
run() {  # key, label, path, cookie
  local out
  out=$(wrk -t2 -c64 -d"${seconds}s" --latency -H "Cookie: $4" "$base$3")
  local rps p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
  non2xx=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
  printf '%-38s %6s bytes %10s req/s   p99 %8s   non-2xx: %s\n' "$2" \
    "$(curl -s -H "Cookie: $4" "$base$3" | wc -c)" "$rps" "$p99" "${non2xx:-0}"
  echo "$rps" >"$work/$1.rps"
}
echo "wrk -t2 -c64 -d${seconds}s on $(nproc) cores, $database, release build"
run static "static file ($static)" "$static" ""
# PAGE_SPEED_PERF=FILE records a perf profile of the server during the quiz page run.
if [[ -n ${PAGE_SPEED_PERF:-} ]]; then
  perf record -F 999 -g -o "$PAGE_SPEED_PERF" -p "$server" -- sleep "$seconds" >/dev/null 2>&1 &
fi
run page "quiz page ($page)" "$page" "$cookie"
wait_perf=$(jobs -p | grep -v "^$server$" || true)
[[ -n $wait_perf ]] && wait $wait_perf 2>/dev/null || true
run dashboard "class dashboard (25 students)" "/teacher/classes/$class_id" "$staff_cookie"
python3 - "$work" <<'EOF'
import pathlib, sys
work = pathlib.Path(sys.argv[1])
static = float((work / "static.rps").read_text())
page = float((work / "page.rps").read_text())
print(f"quiz page / static file: {page / static:.2f}")
EOF
grep -q panicked "$work/server.log" && { echo "FAIL: the server panicked"; exit 1; }
exit 0
