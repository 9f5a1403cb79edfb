#!/usr/bin/env bash
# The baseline of `npm run bench`: the service labs 3-1, 3-2 and 3-3 as one plain sequential script of docker CLI
# commands, every wait a `sleep 0.1` poll, a few core checks per lab. It is written apart from helpers/ on purpose:
# what a person would script by hand, so the suite is compared with something that shares none of its code.
# BENCH_WINDOW_S: the length of the idle window and of the load burst that Lab 3-2 compares (the spec's own, passed in
# by scripts/bench.ts).
set -euo pipefail

MYSQL=labs-stand-in/mysql:5.7 NGINX=labs-stand-in/nginx:1.18 CADVISOR=labs-stand-in/cadvisor:v0.46.0
WINDOW=${BENCH_WINDOW_S:-0}
RUN="bench-$$"
LABELS=(--label labs.bench=1 --label "labs.bench.run=$RUN")

cleanup() {
	docker ps -aq --filter "label=labs.bench.run=$RUN" | xargs -r docker rm -fv >/dev/null
	docker network ls -q --filter "label=labs.bench.run=$RUN" | xargs -r docker network rm >/dev/null
}
trap cleanup EXIT

fail() { echo "FAILED ($LAB): $*" >&2 && exit 1; }
expect() { [[ $2 =~ $3 ]] || fail "$1: [$2] does not match /$3/"; }
until_ok() { # until_ok <seconds> <what> <command...>: polls every 100 ms
	local deadline=$((EPOCHSECONDS + $1)) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		((EPOCHSECONDS < deadline)) || fail "$what: not within the limit"
		sleep 0.1
	done
}
port_of() { docker port "$1" "$2/tcp" | sed -n 's/^127\.0\.0\.1://p' | head -n 1; }
answers() { [[ $(curl -s --max-time 10 "$1") =~ $2 ]]; } # answers <url> <regex>

LAB=lab-3-1-mysql
net="net-$RUN" db="some-mysql-$RUN"
docker network create "${LABELS[@]}" "$net" >/dev/null
export MYSQL_ROOT_PASSWORD MYSQL_PWD
MYSQL_ROOT_PASSWORD="r$RANDOM$RANDOM$RANDOM" MYSQL_PWD=$MYSQL_ROOT_PASSWORD
docker run -d --name "$db" "${LABELS[@]}" --platform linux/amd64 --network "$net" --network-alias some-mysql \
	-p 127.0.0.1::3306 -e MYSQL_ROOT_PASSWORD -e MYSQL_DATABASE=labs "$MYSQL" >/dev/null
until_ok 120 "mysql ready" sh -c "docker logs $db 2>&1 | grep -q 'port: 3306'"
sql() { docker exec -e MYSQL_PWD "$db" mysql -uroot -h127.0.0.1 --batch -N labs -e "$1"; }
expect "os-release" "$(docker exec "$db" cat /etc/os-release)" 'PRETTY_NAME='
expect "wrong password" "$(docker exec -e MYSQL_PWD=wrong "$db" mysql -uroot -e 'SELECT 1' 2>&1 || true)" 'Access denied'
sql "CREATE TABLE team (id INT PRIMARY KEY, name VARCHAR(40)); INSERT INTO team VALUES (1, 'ana'), (2, 'bo')"
expect "rows" "$(sql 'SELECT COUNT(*) FROM team')" '^2$'
expect "second container" "$(docker run --rm "${LABELS[@]}" --network "$net" -e MYSQL_PWD "$MYSQL" \
	mysql -h some-mysql -uroot --batch -N labs -e 'SELECT name FROM team WHERE id = 2')" '^bo$'
expect "version" "$(sql 'SELECT VERSION()')" 'MariaDB|^5\.7\.'
docker rm -fv "$db" >/dev/null && docker network rm "$net" >/dev/null

LAB=lab-3-2-cadvisor
cadvisor="cadvisor-$RUN" workload="workload-$RUN"
docker run -d --name "$cadvisor" "${LABELS[@]}" -v /:/rootfs:ro -v /var/run:/var/run:rw -v /sys:/sys:ro \
	-v /var/lib/docker/:/var/lib/docker:ro -p 127.0.0.1::8080 "$CADVISOR" >/dev/null
api="http://127.0.0.1:$(port_of "$cadvisor" 8080)"
until_ok 60 "cAdvisor /healthz" answers "$api/healthz" ok
docker run -d --name "$workload" "${LABELS[@]}" -p 127.0.0.1::80 "$NGINX" >/dev/null
web="http://127.0.0.1:$(port_of "$workload" 80)/"
until_ok 30 "the workload answers" answers "$web" nginx
# The workload's last CPU sample as "<epoch seconds> <total ns>".
sample() {
	curl -s --max-time 2 "$api/api/v1.3/docker/$workload" | jq -r '.[].stats[-1] | ((.timestamp |
		capture("(?<s>[^.]*)(?<f>\\.[0-9]+)?Z")) as $t | ($t.s + "Z" | fromdate) + ($t.f // "0" | tonumber) |
		tostring) + " " + (.cpu.usage.total | tostring)'
}
# The first sample taken at or after <epoch seconds>: cAdvisor samples on its own housekeeping clock.
cpu_after() {
	local at total deadline=$((EPOCHSECONDS + 30))
	until read -r at total < <(sample) && awk -v a="$at" -v b="$1" 'BEGIN { exit !(a >= b) }'; do
		((EPOCHSECONDS < deadline)) || fail "no cAdvisor sample after $1"
		sleep 0.1
	done
	echo "$total"
}
until_ok 30 "cAdvisor sees the workload" answers "$api/api/v1.3/docker/$workload" usage
until_ok 30 "/metrics has the workload" answers "$api/metrics" "cpu_usage_seconds_total[{][^}]*$workload"
idle0=$(cpu_after "$EPOCHREALTIME")
sleep "$WINDOW"
idle1=$(cpu_after "$EPOCHREALTIME")
end=$(awk -v a="$EPOCHREALTIME" -v w="$WINDOW" 'BEGIN { printf "%.3f", a + w }')
# At least one burst of 400 requests, repeated until the load window is over (a bounded loop all the same).
for ((burst = 0; burst < 100; burst++)); do
	curl -sf --max-time 10 "$web?[1-400]" >/dev/null || fail "the workload stopped answering"
	awk -v a="$EPOCHREALTIME" -v b="$end" 'BEGIN { exit !(a >= b) }' && break
done
load1=$(cpu_after "$EPOCHREALTIME")
((load1 - idle1 > idle1 - idle0)) || fail "CPU under load ($((load1 - idle1))) not above idle ($((idle1 - idle0)))"
docker rm -fv "$workload" "$cadvisor" >/dev/null

LAB=lab-3-3-nginx
webserver="webserver1-$RUN"
docker run -d --name "$webserver" "${LABELS[@]}" -p 127.0.0.1::80 "$NGINX" >/dev/null
page="http://127.0.0.1:$(port_of "$webserver" 80)/"
until_ok 30 "nginx answers" answers "$page" nginx
expect "page" "$(curl -s -i "$page" | tr -d '\r')" $'^HTTP/1.1 200 OK\n.*Server: nginx/1.18.0\n.*Welcome to nginx!'
expect "binding" "$(docker port "$webserver" 80/tcp)" '^127\.0\.0\.1:[0-9]+$'
for chromium in "${CHROMIUM_PATH:-}" /usr/bin/chromium; do [[ -x $chromium ]] && break; done
if [[ -x $chromium ]]; then
	shot=$(mktemp -d)
	timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$shot" \
		--screenshot="$shot/page.png" "$page" >/dev/null 2>&1 && [[ -s $shot/page.png ]] || fail "no screenshot"
	rm -rf "$shot"
fi
expect "stop signal" "$(docker inspect -f '{{.Config.StopSignal}}' "$webserver")" '^SIGQUIT$'
docker stop -t 10 "$webserver" >/dev/null
expect "stopped" "$(docker inspect -f '{{.State.Running}} {{.State.ExitCode}}' "$webserver")" '^false 0$'
docker rm -v "$webserver" >/dev/null
