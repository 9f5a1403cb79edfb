#!/usr/bin/env bash
# The labs of specs/ done the way a person would script them: one sequential bash script of docker CLI commands,
# each wait a poll loop with `sleep 0.1`. It is the baseline of `npm run bench` (scripts/bench.ts), which compares
# the vitest + testcontainers suite with it, but it runs on its own too:
#
#   bash bench/labs.sh            # every lab
#   bash bench/labs.sh nginx      # some labs: smoke mysql cadvisor nginx images containers dev-flow
#
# Per lab it prints a machine-readable line `lab <spec file name> <seconds>`, at the end `total <seconds>`.
# Images come from LABS_<NAME>_IMAGE (stand-ins by default). Everything it creates carries the labels
# labs.bench=1 and labs.bench.run=<this run>, publishes on 127.0.0.1 only, and is removed on exit, failed or not.
# Passwords are generated per run and reach docker only through the environment (`-e VAR`, --password-stdin),
# never through a command line.
set -euo pipefail

DEBIAN_IMAGE=${LABS_DEBIAN_IMAGE:-labs-stand-in/debian:bullseye}
HTTPD_IMAGE=${LABS_HTTPD_IMAGE:-labs-stand-in/httpd:2.4}
PYTHON_IMAGE=${LABS_PYTHON_IMAGE:-labs-stand-in/python:3.9}
MYSQL_IMAGE=${LABS_MYSQL_IMAGE:-labs-stand-in/mysql:5.7}
NGINX_IMAGE=${LABS_NGINX_IMAGE:-labs-stand-in/nginx:1.18}
CADVISOR_IMAGE=${LABS_CADVISOR_IMAGE:-labs-stand-in/cadvisor:v0.46.0}
REGISTRY_IMAGE=${LABS_REGISTRY_IMAGE:-labs-stand-in/registry:2}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN="b$(date +%s)-$$"
LABELS=(--label labs.bench=1 --label "labs.bench.run=$RUN")
USER_NS="labs-bench-$RUN" # the "<user>" of the book's image names
POLL=0.1                  # every wait below polls at this interval
WORK=$(mktemp -d "${TMPDIR:-/tmp}/labs-bench.XXXXXX")
export DOCKER_CONFIG="$WORK/docker-config" # `docker login` writes here, never into ~/.docker
mkdir -p "$DOCKER_CONFIG"
TAGS=() # tags this script put on images it did not build (the stand-ins): removed by name, never by id

# ---------------------------------------------------------------------------------------------------------- helpers

cleanup() {
	local status=$?
	set +e
	docker ps -aq --filter "label=labs.bench.run=$RUN" | xargs -r docker rm -fv >/dev/null
	docker network ls -q --filter "label=labs.bench.run=$RUN" | xargs -r docker network rm >/dev/null
	for ref in "${TAGS[@]}"; do docker image rm "$ref" >/dev/null 2>&1; done
	docker images -q --filter "label=labs.bench.run=$RUN" | sort -u | xargs -r docker image rm -f >/dev/null 2>&1
	rm -rf "$WORK"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
seconds_since() { awk -v a="$1" -v b="$(now_us)" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; }
say() { printf '%s\n' "$*"; }
STEP_STARTED=0
ok() { # a step passed: its time since the previous step (or the lab's start), then what it showed
	printf '  ok  %6.2f s  %s\n' "$(seconds_since "$STEP_STARTED")" "$*"
	STEP_STARTED=$(now_us)
}
fail() {
	printf 'FAILED (%s): %s\n' "${LAB:-setup}" "$*" >&2
	exit 1
}
expect() { [[ $2 == "$3" ]] || fail "$1: expected [$3], got [$2]"; }
expect_match() { [[ $2 =~ $3 ]] || fail "$1: [$2] does not match /$3/"; }
secret() { head -c 18 /dev/urandom | base64 | tr -dc A-Za-z0-9; }

# wait_for <seconds> <what> <command...>: run the command every $POLL s until it succeeds.
wait_for() {
	local limit=$1 what=$2
	shift 2
	local deadline=$(($(now_us) + limit * 1000000))
	until "$@" >/dev/null 2>&1; do
		(($(now_us) < deadline)) || fail "$what: not within ${limit} s"
		sleep "$POLL"
	done
}
log_has() {
	local -
	set +o pipefail
	docker logs "$1" 2>&1 | grep -q -- "$2"
}
file_has() { grep -q -- "$2" "$1" 2>/dev/null; }
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
http_is() { [[ $(http_code "${@:2}") == "$1" ]]; }
body_is() { [[ $(curl -s --max-time 5 "$2") == "$1" ]]; }
# The host port a container published for <port>/tcp; it must be on loopback.
host_port() {
	local binding
	binding=$(docker port "$1" "$2/tcp" | head -n 1)
	[[ $binding == 127.0.0.1:* ]] || fail "$1 publishes $2 on [$binding], not on 127.0.0.1"
	echo "${binding##*:}"
}
image_id() { docker image inspect -f '{{.Id}}' "$1"; }
layers() { docker image inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' "$1" | sed '/^$/d'; }
digest_in() { grep -o 'sha256:[a-f0-9]\{64\}' | tail -n 1; }
# curl with basic auth read from a file descriptor, so the password is on no command line.
curl_auth() {
	local user=$1 password=$2
	shift 2
	curl -s --max-time 10 -K <(printf 'user = "%s:%s"\n' "$user" "$password") "$@"
}
login() { # login <address> <user> <password>
	local output
	output=$(printf '%s' "$3" | docker login -u "$2" --password-stdin "$1" 2>&1) || {
		say "$output"
		return 1
	}
}
logout() { docker logout "$1" >/dev/null 2>&1; }
# Runs a command with its output shown only if it fails (docker build's legacy-builder notice, say).
quietly() {
	local output
	output=$("$@" 2>&1) || {
		say "$output"
		return 1
	}
}

# A registry:2 with htpasswd basic auth; sets REGISTRY (its 127.0.0.1:port), REGISTRY_USER and REGISTRY_PASSWORD.
start_registry() {
	local name=$1 auth="$WORK/auth-$1"
	REGISTRY_USER="lab-$(secret | head -c 6)"
	REGISTRY_PASSWORD=$(secret)
	mkdir -p "$auth"
	# htpasswd runs inside the httpd image and reads the password from its environment, so it is never an argument.
	REGISTRY_PASSWORD=$REGISTRY_PASSWORD docker run --rm "${LABELS[@]}" -e REGISTRY_PASSWORD --entrypoint sh \
		"$HTTPD_IMAGE" -c 'htpasswd -Bbn "$0" "$REGISTRY_PASSWORD"' "$REGISTRY_USER" >"$auth/htpasswd"
	docker run -d --name "$name" "${LABELS[@]}" -p 127.0.0.1::5000 -v "$auth:/auth:ro" \
		-e REGISTRY_AUTH=htpasswd -e REGISTRY_AUTH_HTPASSWD_REALM=container-labs \
		-e REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd "$REGISTRY_IMAGE" >/dev/null
	REGISTRY="127.0.0.1:$(host_port "$name" 5000)"
	wait_for 30 "registry $name answers /v2/" http_is 401 "http://$REGISTRY/v2/"
}

# A MySQL server; its readiness is the server's own line `port: 3306` (the init server before it says `port: 0`).
wait_for_mysql() { wait_for 120 "$1 ready for connections on 3306" log_has "$1" 'port: 3306'; }

# Drives an interactive `docker ... -it` command through a pseudo-terminal (script(1)); the inputs are fed by the
# caller's block on stdin, which waits (polling the captured output) for what a person would wait to see. The
# feeder reading the file the terminal writes is the point (shellcheck SC2094), and the shell lines it types are
# meant for the container's shell, unexpanded (SC2016).
in_terminal() { timeout 30 script -qec "$1" /dev/null; }

LAB=""
LAB_STARTED=0
lab() {
	LAB=$1
	LAB_STARTED=$(now_us)
	STEP_STARTED=$LAB_STARTED
	say "== $LAB"
}
lab_done() { say "lab $LAB $(seconds_since "$LAB_STARTED")"; }

# ------------------------------------------------------------------------------------------- smoke: the stand-ins

# smoke_page NAME IMAGE TEXT: the web server answers on port 80 with a page containing TEXT.
smoke_page() {
	local c="smoke-$1-$RUN" port
	docker run -d --name "$c" "${LABELS[@]}" -p 127.0.0.1::80 "$2" >/dev/null
	port=$(host_port "$c" 80)
	wait_for 30 "$1 answers" http_is 200 "http://127.0.0.1:$port/"
	expect_match "$1 page" "$(curl -s "http://127.0.0.1:$port/")" "$3"
	docker rm -fv "$c" >/dev/null && ok "$1 serves its page"
}

smoke() {
	lab stand-ins
	local c port
	smoke_page nginx "$NGINX_IMAGE" "<title>Welcome to nginx!</title>"
	smoke_page httpd "$HTTPD_IMAGE" "It works!"

	c="smoke-mysql-$RUN"
	MYSQL_ROOT_PASSWORD=$(secret) MYSQL_PASSWORD=$(secret) MYSQL_USER=test MYSQL_DATABASE=test \
		docker run -d --name "$c" "${LABELS[@]}" -p 127.0.0.1::3306 -e MYSQL_ROOT_PASSWORD -e MYSQL_PASSWORD \
		-e MYSQL_USER -e MYSQL_DATABASE "$MYSQL_IMAGE" >/dev/null
	host_port "$c" 3306 >/dev/null
	wait_for_mysql "$c"
	# The root password is only in the container's environment: the client inside reads it from there.
	expect "SELECT 1" "$(docker exec "$c" sh -c 'MYSQL_PWD=$MYSQL_ROOT_PASSWORD exec mysql -uroot -h127.0.0.1 -N -e "SELECT 1"')" 1
	docker rm -fv "$c" >/dev/null && ok "mysql answers SELECT 1"

	c="smoke-cadvisor-$RUN"
	docker run -d --name "$c" "${LABELS[@]}" -p 127.0.0.1::8080 "$CADVISOR_IMAGE" >/dev/null
	port=$(host_port "$c" 8080)
	wait_for 60 "cAdvisor /healthz" body_is ok "http://127.0.0.1:$port/healthz"
	docker rm -fv "$c" >/dev/null && ok "cAdvisor says ok on /healthz"

	c="smoke-registry-$RUN"
	docker run -d --name "$c" "${LABELS[@]}" -p 127.0.0.1::5000 "$REGISTRY_IMAGE" >/dev/null
	port=$(host_port "$c" 5000)
	wait_for 30 "registry /v2/" http_is 200 "http://127.0.0.1:$port/v2/"
	expect_match "registry API version" "$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/v2/")" \
		"Docker-Distribution-Api-Version: registry/2.0"
	docker rm -fv "$c" >/dev/null && ok "registry answers /v2/"

	expect "python one-liner" "$(docker run --rm "${LABELS[@]}" "$PYTHON_IMAGE" python -c 'print(6 * 7)')" 42
	ok "python runs a one-liner"
	expect "debian shell" "$(docker run --rm "${LABELS[@]}" "$DEBIAN_IMAGE" \
		bash -c '. /etc/os-release && echo $ID $VERSION_CODENAME')" "debian bullseye"
	ok "debian runs a shell command"
	lab_done
}

# --------------------------------------------------------------------------------------------- Lab 3-1: MySQL 5.7

mysql_lab() {
	lab lab-3-1-mysql
	local net="labs-bench-net-$RUN" c="some-mysql-$RUN" client="mysql-client-$RUN" port
	docker network create "${LABELS[@]}" "$net" >/dev/null
	mkdir -p "$WORK/initdb"
	printf '%s\n' "CREATE TABLE seeded (id INT PRIMARY KEY, note VARCHAR(40));" \
		"INSERT INTO seeded VALUES (1, 'from initdb');" >"$WORK/initdb/01-seed.sql"
	chmod -R a+rX "$WORK/initdb"
	export MYSQL_ROOT_PASSWORD MYSQL_PASSWORD
	MYSQL_ROOT_PASSWORD=$(secret)
	MYSQL_PASSWORD=$(secret)

	# docker pull --platform linux/amd64 mysql:5.7 (the image is local: its platform is checked)
	expect "image platform" "$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$MYSQL_IMAGE")" linux/amd64
	# docker run --name some-mysql -e MYSQL_ROOT_PASSWORD=... -d mysql:5.7
	docker run -d --name "$c" "${LABELS[@]}" --platform linux/amd64 --network "$net" --network-alias some-mysql \
		-p 127.0.0.1::3306 -e MYSQL_ROOT_PASSWORD -e MYSQL_DATABASE=labs -e MYSQL_USER=lab -e MYSQL_PASSWORD \
		-v "$WORK/initdb:/docker-entrypoint-initdb.d:ro" "$MYSQL_IMAGE" >/dev/null
	port=$(host_port "$c" 3306)
	wait_for_mysql "$c"
	expect "uname -m" "$(docker exec "$c" uname -m)" x86_64
	ok "docker pull --platform linux/amd64 mysql:5.7"
	expect "name and state" "$(docker inspect -f '{{.Name}} {{.State.Running}}' "$c")" "/$c true"
	docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$c" |
		grep -qxF -f <(printf 'MYSQL_ROOT_PASSWORD=%s\n' "$MYSQL_ROOT_PASSWORD") || fail "the generated root password is not set"
	expect "SELECT 1 as root over TCP" "$(MYSQL_PWD=$MYSQL_ROOT_PASSWORD docker exec -e MYSQL_PWD "$c" \
		mysql -uroot -h127.0.0.1 -N -e 'SELECT 1 AS res')" 1
	ok "docker run --name some-mysql -e MYSQL_ROOT_PASSWORD=... -d mysql:5.7 (127.0.0.1:$port)"

	# docker exec -it some-mysql bash -c 'cat /etc/os-release'
	expect_match "os-release" "$(docker exec "$c" bash -c 'cat /etc/os-release')" 'PRETTY_NAME="[^"]+"'
	ok "docker exec some-mysql bash -c 'cat /etc/os-release'"

	# mysql -u root -p (inside the container): the right password gets in, a wrong one does not
	expect_match "root login" "$(MYSQL_PWD=$MYSQL_ROOT_PASSWORD docker exec -e MYSQL_PWD "$c" \
		mysql -uroot --batch -e 'SELECT CURRENT_USER()')" "root@localhost"
	local denied
	denied=$(MYSQL_PWD=$(secret) docker exec -e MYSQL_PWD "$c" mysql -uroot -e 'SELECT 1' 2>&1) &&
		fail "a wrong root password was accepted"
	expect_match "wrong password" "$denied" "Access denied for user 'root'@'localhost'"
	ok "mysql -u root -p"

	# SQL as the lab user over TCP: the seeded row, then create / insert / update / delete
	sql_lab() { MYSQL_PWD=$MYSQL_PASSWORD docker exec -e MYSQL_PWD "$c" mysql -ulab -h127.0.0.1 --batch -N labs -e "$1"; }
	expect "whoami" "$(sql_lab 'SELECT CURRENT_USER(), DATABASE()')" $'lab@%\tlabs'
	expect "seeded" "$(sql_lab 'SELECT id, note FROM seeded')" $'1\tfrom initdb'
	sql_lab "CREATE TABLE team (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), role VARCHAR(20))"
	expect "insert" "$(sql_lab "INSERT INTO team (name, role) VALUES ('ana', 'dev'), ('bo', 'qa'), ('cy', 'ops'); SELECT ROW_COUNT()")" 3
	expect "update" "$(sql_lab "UPDATE team SET role = 'dev' WHERE name = 'bo'; SELECT ROW_COUNT()")" 1
	expect "delete" "$(sql_lab "DELETE FROM team WHERE name = 'cy'; SELECT ROW_COUNT()")" 1
	expect "team" "$(sql_lab 'SELECT id, name, role FROM team ORDER BY id')" $'1\tana\tdev\n2\tbo\tdev'
	expect "count" "$(sql_lab "SELECT COUNT(*) FROM team WHERE role = 'dev'")" 2
	denied=$(sql_lab 'SELECT User FROM mysql.user' 2>&1) && fail "lab@% may read mysql.user"
	expect_match "mysql.* denied" "$denied" "denied"
	ok "SQL as lab@% over TCP: 3 inserted, 1 updated, 1 deleted; mysql.* is denied"

	# docker inspect some-mysql | grep IPAddress, then reach it from a second container by address and by alias
	local address subnet
	address=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$c")
	subnet=$(docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' "$net")
	expect_match "IPAddress" "$address" '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$'
	expect_match "subnet" "$subnet" '^[0-9.]+/[0-9]+$'
	docker run -d --name "$client" "${LABELS[@]}" --platform linux/amd64 --network "$net" "$MYSQL_IMAGE" \
		sleep infinity >/dev/null
	for host in "$address" some-mysql; do
		expect "query via $host" "$(MYSQL_PWD=$MYSQL_PASSWORD docker exec -e MYSQL_PWD "$client" \
			mysql -h "$host" -ulab --batch -N labs -e 'SELECT note FROM seeded')" "from initdb"
	done
	docker rm -fv "$client" >/dev/null
	ok "some-mysql is $address in $subnet; reached by address and by alias"

	# mysql> SELECT VERSION();
	local version
	version=$(MYSQL_PWD=$MYSQL_ROOT_PASSWORD docker exec -e MYSQL_PWD "$c" mysql -uroot -h127.0.0.1 -N -e 'SELECT VERSION()')
	if [[ -n $(docker image inspect -f '{{index .Config.Labels "labs.stand-in.for"}}' "$MYSQL_IMAGE") ]]; then
		expect_match "stand-in version" "$version" MariaDB
	else
		expect_match "server version" "$version" '^5\.7\.'
	fi
	ok "SELECT VERSION() = $version"

	docker rm -fv "$c" >/dev/null
	docker network rm "$net" >/dev/null
	lab_done
}

# ------------------------------------------------------------------------------------------------ Lab 3-2: cAdvisor

cadvisor_cpu() { # the last CPU total cAdvisor has for a container, from /api/v1.3/docker/<name>
	curl -s --max-time 5 "http://127.0.0.1:$1/api/v1.3/docker/$2" | grep -o '"usage":{"total":[0-9]*' |
		tail -n 1 | grep -o '[0-9]*$'
}
cadvisor_sees() { # cAdvisor lists the container under its name, with a CPU total above <floor>
	local cpu
	cpu=$(cadvisor_cpu "$1" "$2")
	[[ -n $cpu ]] && ((cpu > $3))
}
metrics_see() {
	local -
	set +o pipefail
	curl -s --max-time 5 "http://127.0.0.1:$1/metrics" |
		awk -v name="name=\"$2\"" 'index($0, "container_cpu_usage_seconds_total{") == 1 && index($0, name) {
			value = $0; sub(/^.*\} /, "", value); split(value, v, " "); if (v[1] + 0 > 0) found = 1 }
			END { exit found ? 0 : 1 }'
}

cadvisor_lab() {
	lab lab-3-2-cadvisor
	local c="cadvisor-$RUN" workload="cadvisor-workload-$RUN" port web
	# docker run --volume=/:/rootfs:ro --volume=/var/run:/var/run:rw --volume=/sys:/sys:ro
	#   --volume=/var/lib/docker/:/var/lib/docker:ro --publish=9559:8080 --detach=true --name=cadvisor cadvisor
	docker run -d --name "$c" "${LABELS[@]}" -v /:/rootfs:ro -v /var/run:/var/run:rw -v /sys:/sys:ro \
		-v /var/lib/docker/:/var/lib/docker:ro -p 127.0.0.1::8080 "$CADVISOR_IMAGE" >/dev/null
	port=$(host_port "$c" 8080)
	wait_for 60 "cAdvisor /healthz" body_is ok "http://127.0.0.1:$port/healthz"
	expect "mounts" "$(docker inspect -f '{{range .Mounts}}{{.Source}}:{{.Destination}}:{{.RW}} {{end}}' "$c" |
		tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')" \
		"/:/rootfs:false /sys:/sys:false /var/lib/docker:/var/lib/docker:false /var/run:/var/run:true "
	ok "cAdvisor runs with the lab's four mounts; /healthz ok on 127.0.0.1:$port"

	# open http://localhost:9559/ (the web UI): not applicable to a stand-in without one
	if [[ $(docker image inspect -f '{{index .Config.Labels "labs.stand-in.lacks"}}' "$CADVISOR_IMAGE") == *web-ui* ]]; then
		say "  --  web UI: not applicable (labs.stand-in.lacks=web-ui)"
	else
		expect "/ redirects" "$(curl -s -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$port/")" \
			"http://127.0.0.1:$port/containers/"
		expect_match "/docker/ lists cAdvisor" "$(curl -s "http://127.0.0.1:$port/docker/")" "$c"
		ok "web UI redirects to /containers/ and lists $c"
	fi

	# docker run -d --name workload nginx:1.18, then find it in /api/v1.3/docker and /metrics
	docker run -d --name "$workload" "${LABELS[@]}" -p 127.0.0.1::80 "$NGINX_IMAGE" >/dev/null
	web=$(host_port "$workload" 80)
	wait_for 30 "the workload answers" http_is 200 "http://127.0.0.1:$web/"
	wait_for 30 "cAdvisor sees the workload's CPU" cadvisor_sees "$port" "$workload" 0
	wait_for 30 "/metrics has the workload's CPU" metrics_see "$port" "$workload"
	local before answered
	before=$(cadvisor_cpu "$port" "$workload")
	# a bounded burst: 400 requests, at most 10 s
	answered=$(timeout 15 curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$web/?[1-400]" | grep -c '^200$' || true)
	((answered > 0)) || fail "the workload answered no request of the burst"
	wait_for 30 "cAdvisor sees the burst's CPU" cadvisor_sees "$port" "$workload" "$before"
	local samples
	samples=$(curl -s "http://127.0.0.1:$port/api/v1.3/docker/$workload" | grep -o '"timestamp"' | wc -l)
	((samples > 1)) || fail "cAdvisor has no CPU series for the workload"
	ok "workload CPU $before ns -> $(cadvisor_cpu "$port" "$workload") ns after $answered requests; $samples samples"

	docker rm -fv "$workload" "$c" >/dev/null
	lab_done
}

# ---------------------------------------------------------------------------------------------- Lab 3-3: nginx

chromium_path() {
	local candidate
	for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
		[[ -n $candidate && -x $candidate ]] && echo "$candidate" && return 0
	done
	return 1
}

nginx_lab() {
	lab lab-3-3-nginx
	local c="webserver1-$RUN" port
	# docker pull nginx:1.18 && docker images
	expect "docker images" "$(docker image ls -q --no-trunc --filter "reference=$NGINX_IMAGE")" "$(image_id "$NGINX_IMAGE")"
	ok "docker images lists $NGINX_IMAGE"

	# docker run --name webserver1 -d -p 8001:80 nginx:1.18 (published on 127.0.0.1, a free port)
	docker run --name "$c" -d "${LABELS[@]}" -p 127.0.0.1::80 "$NGINX_IMAGE" >/dev/null
	port=$(host_port "$c" 80)
	wait_for 30 "nginx answers" http_is 200 "http://127.0.0.1:$port/"
	expect "state" "$(docker inspect -f '{{.State.Status}} {{.Image}} {{.Config.Tty}} {{.Config.OpenStdin}}' "$c")" \
		"running $(image_id "$NGINX_IMAGE") false false"
	ok "docker run --name webserver1 -d -p 127.0.0.1:$port:80 nginx"

	# curl -i http://localhost:8001/
	local head
	head=$(curl -s -i "http://127.0.0.1:$port/" | tr -d '\r')
	expect_match "status" "$head" "^HTTP/1.1 200 OK"
	expect_match "server" "$head" $'\nServer: nginx/1.18.0\n'
	expect_match "title" "$head" "<title>Welcome to nginx!</title>"
	ok "curl -i: 200, Server: nginx/1.18.0"

	# open http://localhost:8001/ in a browser
	local chromium
	if chromium=$(chromium_path); then
		timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
			--disable-component-update --disable-sync --no-first-run --user-data-dir="$WORK/chromium" \
			--screenshot="$WORK/welcome.png" "http://127.0.0.1:$port/" >/dev/null 2>&1 || fail "chromium failed"
		[[ -s $WORK/welcome.png ]] || fail "no screenshot"
		ok "a headless browser rendered the page"
	else
		say "  --  browser: no Chromium"
	fi

	# sudo lsof -i :8001
	(exec 3<>"/dev/tcp/127.0.0.1/$port") || fail "nothing listens on 127.0.0.1:$port"
	expect "port binding" "$(docker port "$c" 80/tcp)" "127.0.0.1:$port"
	ok "127.0.0.1:$port (LISTEN) -> $c 80/tcp"

	# docker stop webserver1
	expect "stop signal" "$(docker inspect -f '{{.Config.StopSignal}}' "$c")" SIGQUIT
	docker stop -t 10 "$c" >/dev/null
	expect "stopped" "$(docker inspect -f '{{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}' "$c")" "false 0 false"
	ok "docker stop: SIGQUIT, exit code 0"
	docker rm -v "$c" >/dev/null
	lab_done
}

# ------------------------------------------------------------------------------------- Lab 3.2.1: image commands

images_lab() {
	lab lab-3-2-1-images
	start_registry "registry-images-$RUN"
	local reg=$REGISTRY user=$REGISTRY_USER password=$REGISTRY_PASSWORD

	# docker pull debian: the stand-in goes through the lab's registry and back
	local remote="$reg/library/debian:latest" pushed pulled
	TAGS+=("$remote")
	docker image tag "$DEBIAN_IMAGE" "$remote"
	login "$reg" "$user" "$password" || fail "docker login"
	pushed=$(docker push "$remote" | digest_in)
	docker image rm "$remote" >/dev/null
	docker image inspect "$remote" >/dev/null 2>&1 && fail "$remote is still there after docker rmi"
	pulled=$(docker pull "$remote" | digest_in)
	expect "pulled = pushed" "$pulled" "$pushed"
	expect "registry's manifest digest" "$(curl_auth "$user" "$password" -I \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$reg/v2/library/debian/manifests/latest" |
		tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }')" "$pushed"
	expect_match "RepoDigests" "$(docker image inspect -f '{{join .RepoDigests " "}}' "$remote")" "$reg/library/debian@$pushed"
	expect "same image" "$(image_id "$remote")" "$(image_id "$DEBIAN_IMAGE")"
	logout "$reg"
	docker image rm "$remote" >/dev/null
	ok "docker pull debian (through $reg): $pulled"

	# docker image ls
	local listed
	listed=$(docker image ls --no-trunc --filter "reference=$DEBIAN_IMAGE" --format '{{.ID}} {{.Size}}')
	expect "one image" "$(wc -l <<<"$listed")" 1
	expect "its id" "${listed%% *}" "$(image_id "$DEBIAN_IMAGE")"
	(($(docker image inspect -f '{{.Size}}' "$DEBIAN_IMAGE") > 10000000)) || fail "debian is under 10 MB"
	ok "docker image ls: $listed"

	# docker image inspect httpd (and --format '{{.Os}}')
	expect "os/arch" "$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$HTTPD_IMAGE")" \
		"linux/$(docker version -f '{{.Server.Arch}}')"
	expect "exposed" "$(docker image inspect --format '{{json .Config.ExposedPorts}}' "$HTTPD_IMAGE")" '{"80/tcp":{}}'
	expect "cmd" "$(docker image inspect --format '{{json .Config.Cmd}}' "$HTTPD_IMAGE")" '["httpd-foreground"]'
	ok "docker image inspect --format '{{.Os}}' httpd: linux"

	# docker image history httpd
	local history entries
	history=$(docker image history --no-trunc --format '{{.CreatedBy}}' "$HTTPD_IMAGE")
	for instruction in CMD EXPOSE ENV WORKDIR; do
		grep -q "\b$instruction\b" <<<"$history" || fail "history has no $instruction"
	done
	grep '\bCMD\b' <<<"$history" | grep -q httpd-foreground || fail "CMD is not httpd-foreground"
	entries=$(wc -l <<<"$history")
	(($(layers "$HTTPD_IMAGE" | wc -l) <= entries)) || fail "more layers than history entries"
	ok "docker image history httpd: $entries entries"

	# union file system: shared base layers, one writable layer per container
	local base first second
	base=$(layers "$DEBIAN_IMAGE")
	quietly docker build -q "${LABELS[@]}" -t "$USER_NS/union-a:1" - <<<"FROM $DEBIAN_IMAGE
RUN echo a > /a.txt"
	quietly docker build -q "${LABELS[@]}" -t "$USER_NS/union-b:1" - <<<"FROM $DEBIAN_IMAGE
RUN echo b > /b.txt"
	first=$(layers "$USER_NS/union-a:1")
	second=$(layers "$USER_NS/union-b:1")
	expect "a starts with debian's layers" "$(head -n "$(wc -l <<<"$base")" <<<"$first")" "$base"
	expect "b starts with debian's layers" "$(head -n "$(wc -l <<<"$base")" <<<"$second")" "$base"
	[[ $(tail -n 1 <<<"$first") != "$(tail -n 1 <<<"$second")" ]] || fail "a and b share their top layer"
	local one="union-one-$RUN" two="union-two-$RUN" fresh="union-fresh-$RUN"
	for c in "$one" "$two"; do docker run -d --name "$c" "${LABELS[@]}" "$DEBIAN_IMAGE" sleep infinity >/dev/null; done
	docker exec "$one" sh -c 'echo only-in-one > /scratch.txt'
	expect "written" "$(docker exec "$one" cat /scratch.txt)" only-in-one
	docker exec "$two" cat /scratch.txt >/dev/null 2>&1 && fail "the file shows in the second container"
	docker run -d --name "$fresh" "${LABELS[@]}" "$DEBIAN_IMAGE" sleep infinity >/dev/null
	docker exec "$fresh" cat /scratch.txt >/dev/null 2>&1 && fail "the file shows in a fresh container"
	[[ $(docker inspect -f '{{.GraphDriver.Data.UpperDir}}' "$one") != "$(docker inspect -f '{{.GraphDriver.Data.UpperDir}}' "$two")" ]] ||
		fail "the containers share a writable layer"
	docker rm -fv "$one" "$two" "$fresh" >/dev/null
	docker image rm "$USER_NS/union-a:1" "$USER_NS/union-b:1" >/dev/null
	ok "union FS: two images share $(wc -l <<<"$base") base layer(s); a file written in one container stays there"

	# docker image tag httpd:latest <user>/httpd:3.0
	TAGS+=("$USER_NS/httpd:3.0")
	docker image tag "$HTTPD_IMAGE" "$USER_NS/httpd:3.0"
	expect "tag points at httpd" "$(image_id "$USER_NS/httpd:3.0")" "$(image_id "$HTTPD_IMAGE")"
	docker image rm "$USER_NS/httpd:3.0" >/dev/null
	docker image inspect "$USER_NS/httpd:3.0" >/dev/null 2>&1 && fail "the tag is still there"
	image_id "$HTTPD_IMAGE" >/dev/null
	ok "docker image tag / rmi $USER_NS/httpd:3.0"

	# docker commit <container> <user>/debian-note:1.0
	local note="commit-$RUN" note_fresh="commit-fresh-$RUN" committed="$USER_NS/debian-note:1.0"
	docker run -d --name "$note" "${LABELS[@]}" "$DEBIAN_IMAGE" sleep infinity >/dev/null
	docker exec "$note" sh -c 'echo committed-by-lab > /lab-note'
	docker commit -c "LABEL labs.bench.run=$RUN" "$note" "$committed" >/dev/null
	expect "one more layer" "$(layers "$committed" | wc -l)" "$(($(wc -l <<<"$base") + 1))"
	docker run -d --name "$note_fresh" "${LABELS[@]}" "$committed" sleep infinity >/dev/null
	expect "the note" "$(docker exec "$note_fresh" cat /lab-note)" committed-by-lab
	docker rm -fv "$note" "$note_fresh" >/dev/null
	docker image rm "$committed" >/dev/null
	ok "docker commit: $committed has one layer more than debian"

	# docker login / docker push / docker logout
	local repo="$reg/$USER_NS/httpd:3.0" output
	TAGS+=("$repo")
	docker image tag "$HTTPD_IMAGE" "$repo"
	output=$(docker push "$repo" 2>&1) && fail "push before login succeeded"
	expect_match "push before login" "$output" "unauthorized|authentication required|no basic auth credentials"
	login "$reg" "$user" "$(secret)" >/dev/null && fail "login with a wrong password succeeded"
	login "$reg" "$user" "$password" || fail "docker login"
	pushed=$(docker push "$repo" | digest_in)
	expect_match "catalog" "$(curl_auth "$user" "$password" "http://$reg/v2/_catalog")" "\"$USER_NS/httpd\""
	expect "catalog without credentials" "$(http_code "http://$reg/v2/_catalog")" 401
	docker image rm "$repo" >/dev/null
	pulled=$(docker pull "$repo" | digest_in)
	expect "pulled = pushed" "$pulled" "$pushed"
	logout "$reg"
	output=$(docker push "$repo" 2>&1) && fail "push after logout succeeded"
	expect_match "push after logout" "$output" "unauthorized|authentication required|no basic auth credentials"
	docker image rm "$repo" >/dev/null
	ok "docker login / push / logout: $repo as $pushed; refused before login, with a wrong password, after logout"

	docker rm -fv "registry-images-$RUN" >/dev/null
	lab_done
}

# --------------------------------------------------------------------------------- Lab 3.2.2: container commands

# shellcheck disable=SC2094,SC2016
containers_lab() {
	lab lab-3-2-2-containers

	# docker run debian echo ... = docker create + docker start + the command
	local run="run-$RUN"
	docker create --name "$run" "${LABELS[@]}" "$DEBIAN_IMAGE" echo "hello from docker run" >/dev/null
	expect "created" "$(docker inspect -f '{{.State.Status}} {{.Image}}' "$run")" "created $(image_id "$DEBIAN_IMAGE")"
	expect "output" "$(docker start -a "$run")" "hello from docker run"
	expect "exited" "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$run")" "exited 0"
	ok "docker run debian echo = create + start"

	# docker run -i debian bash: stdin is fed, no prompt
	local output
	output=$(printf 'echo fed-through-stdin; exit\n' | docker run -i --name "i-$RUN" "${LABELS[@]}" "$DEBIAN_IMAGE" bash)
	expect "-i output" "$output" fed-through-stdin
	ok "docker run -i debian bash"

	# docker run -t debian bash: a terminal but no stdin, so nothing typed can reach the shell
	docker run -d -t --name "t-$RUN" "${LABELS[@]}" "$DEBIAN_IMAGE" bash >/dev/null
	expect "-t" "$(docker inspect -f '{{.Config.Tty}} {{.Config.OpenStdin}} {{.State.Running}}' "t-$RUN")" "true false true"
	ok "docker run -t debian bash: a tty, stdin closed, still running"

	# docker run -it debian bash: type at the prompt, then exit
	local out="$WORK/it.out"
	{
		wait_for 10 "the -it prompt" file_has "$out" 'root@lab-it:/# '
		printf '. /etc/os-release; echo "typed: $ID"; exit\n'
	} | in_terminal "docker run -it --name it-$RUN ${LABELS[*]} --hostname lab-it $DEBIAN_IMAGE bash" >"$out"
	expect_match "-it output" "$(tr -d '\r' <"$out")" 'typed: [a-z]+'
	expect "-it exit" "$(docker inspect -f '{{.State.ExitCode}}' "it-$RUN")" 0
	ok "docker run -it debian bash"

	# docker run -d python: the REPL gets no stdin and exits
	docker run -d --name "d-$RUN" "${LABELS[@]}" "$PYTHON_IMAGE" >/dev/null
	expect "-d python exits 0" "$(timeout 15 docker wait "d-$RUN")" 0
	ok "docker run -d python exits with 0"

	# docker run -itd python: the REPL keeps running; attach, compute, detach with Ctrl-P Ctrl-Q
	local itd="itd-$RUN"
	docker run -itd --name "$itd" "${LABELS[@]}" "$PYTHON_IMAGE" >/dev/null
	wait_for 10 "the Python banner" log_has "$itd" '^Python 3\.'
	out="$WORK/itd.out"
	{
		printf 'print(6 * 7)\n'
		wait_for 10 "the REPL's answer" file_has "$out" '^42'
		printf '\x10\x11'
	} | in_terminal "docker attach $itd" >"$out" || true # docker attach exits 1 on detach
	expect "-itd running" "$(docker inspect -f '{{.State.Running}}' "$itd")" true
	ok "docker run -itd python: print(6 * 7) = 42, still running"

	# docker exec -it <itd container> bash -c 'cat /etc/os-release'
	expect_match "exec" "$(docker exec -t "$itd" bash -c 'cat /etc/os-release')" 'PRETTY_NAME="[^"]+"'
	ok "docker exec -t $itd bash -c 'cat /etc/os-release'"

	# Ctrl-P Ctrl-Q detaches from docker run -it, the container keeps running
	out="$WORK/detach.out"
	{
		wait_for 10 "the prompt" file_has "$out" 'root@[a-z0-9-]*:/# '
		printf '\x10\x11'
	} | in_terminal "docker run -it --name detach-$RUN ${LABELS[*]} $DEBIAN_IMAGE bash" >"$out"
	expect "detached, running" "$(docker inspect -f '{{.State.Running}}' "detach-$RUN")" true
	ok "Ctrl-P Ctrl-Q detached; the container keeps running"

	# docker ps / docker ps -a
	local running everything
	running=$(docker ps --filter "label=labs.bench.run=$RUN" --format '{{.Names}}')
	everything=$(docker ps -a --filter "label=labs.bench.run=$RUN" --format '{{.Names}}')
	for role in itd detach t; do grep -qx "$role-$RUN" <<<"$running" || fail "docker ps misses $role"; done
	for role in run i it d; do
		grep -qx "$role-$RUN" <<<"$running" && fail "docker ps lists $role"
		grep -qx "$role-$RUN" <<<"$everything" || fail "docker ps -a misses $role"
	done
	ok "docker ps: $(wc -l <<<"$running") running; docker ps -a: $(wc -l <<<"$everything") in all"

	docker ps -aq --filter "label=labs.bench.run=$RUN" | xargs -r docker rm -fv >/dev/null
	lab_done
}

# ------------------------------------------------------------------------------ Section 3.1.2: development flow

dev_flow() {
	lab lab-3-1-2-dev-flow
	local app="$USER_NS/visits:1.0" context="$WORK/visits" net="labs-bench-flow-$RUN"
	local db="db-$RUN" web="visits-$RUN" port

	# docker build -t <user>/visits:1.0 .
	mkdir -p "$context"
	cp "$ROOT/specs/apps/visits/app.py" "$context/"
	cat >"$context/Dockerfile" <<-EOF
		FROM $PYTHON_IMAGE
		WORKDIR /app
		COPY app.py .
		ENV PORT=8000
		EXPOSE 8000
		CMD ["python3", "app.py"]
	EOF
	quietly docker build -q "${LABELS[@]}" -t "$app" "$context"
	expect "config" "$(docker image inspect -f '{{json .Config.Cmd}} {{json .Config.ExposedPorts}} {{.Config.WorkingDir}}' "$app")" \
		'["python3","app.py"] {"8000/tcp":{}} /app'
	local base
	base=$(layers "$PYTHON_IMAGE")
	expect "on python's layers" "$(layers "$app" | head -n "$(wc -l <<<"$base")")" "$base"
	docker image history --no-trunc --format '{{.CreatedBy}}' "$app" | grep -Eq 'COPY .*app\.py|COPY file:' ||
		fail "no COPY of app.py in the history"
	ok "docker build -t $app ."

	# docker network create + docker run db + docker run app
	export MYSQL_ROOT_PASSWORD MYSQL_PASSWORD DB_PASSWORD
	MYSQL_ROOT_PASSWORD=$(secret)
	MYSQL_PASSWORD=$(secret)
	DB_PASSWORD=$MYSQL_PASSWORD
	docker network create "${LABELS[@]}" "$net" >/dev/null
	docker run -d --name "$db" "${LABELS[@]}" --network "$net" --network-alias db -p 127.0.0.1::3306 \
		-e MYSQL_ROOT_PASSWORD -e MYSQL_DATABASE=visits -e MYSQL_USER=app -e MYSQL_PASSWORD "$MYSQL_IMAGE" >/dev/null
	wait_for_mysql "$db"
	start_registry "registry-flow-$RUN"
	local reg=$REGISTRY user=$REGISTRY_USER password=$REGISTRY_PASSWORD
	docker run -d --name "$web" "${LABELS[@]}" --network "$net" -p 127.0.0.1::8000 \
		-e DB_HOST=db -e DB_USER=app -e DB_PASSWORD -e DB_NAME=visits "$app" >/dev/null
	port=$(host_port "$web" 8000)
	wait_for 60 "the app's /health" http_is 200 "http://127.0.0.1:$port/health"
	for c in "$web" "$db"; do
		docker inspect -f '{{range $name, $_ := .NetworkSettings.Networks}}{{println $name}}{{end}}' "$c" | grep -qx "$net" ||
			fail "$c is not on $net"
	done
	expect "health" "$(curl -s "http://127.0.0.1:$port/health")" '{"status": "ok"}'
	ok "app and db share $net; the app reaches MySQL as \"db\""

	# curl http://localhost:<port>/visits
	expect_match "first visit" "$(curl -s "http://127.0.0.1:$port/visits")" '"visits": 1[,}]'
	expect_match "second visit" "$(curl -s "http://127.0.0.1:$port/visits")" '"visits": 2[,}]'
	expect "404" "$(http_code "http://127.0.0.1:$port/nowhere")" 404
	expect "rows" "$(MYSQL_PWD=$MYSQL_PASSWORD docker exec -e MYSQL_PWD "$db" \
		mysql -uapp -h127.0.0.1 -N visits -e 'SELECT COUNT(*) FROM visits')" 2
	ok "two requests, two rows in MySQL"

	# docker push <registry>/<user>/visits:1.0
	local remote="$reg/$app" pushed pulled
	docker image tag "$app" "$remote"
	login "$reg" "$user" "$password" || fail "docker login"
	pushed=$(docker push "$remote" | digest_in)
	expect "catalog" "$(curl_auth "$user" "$password" "http://$reg/v2/_catalog")" "{\"repositories\":[\"$USER_NS/visits\"]}"
	docker image rm "$remote" >/dev/null
	pulled=$(docker pull "$remote" | digest_in)
	expect "pulled = pushed" "$pulled" "$pushed"
	logout "$reg"
	ok "pushed $remote as $pushed"

	docker rm -fv "$web" "$db" "registry-flow-$RUN" >/dev/null
	docker network rm "$net" >/dev/null
	docker image rm -f "$(image_id "$app")" >/dev/null
	lab_done
}

# ----------------------------------------------------------------------------------------------------------- main

command -v curl >/dev/null || fail "curl is missing (Debian: apt-get install -y curl)"
command -v script >/dev/null || fail "script(1) is missing (Debian: apt-get install -y bsdutils)"
for image in "$DEBIAN_IMAGE" "$HTTPD_IMAGE" "$PYTHON_IMAGE" "$MYSQL_IMAGE" "$NGINX_IMAGE" "$CADVISOR_IMAGE" "$REGISTRY_IMAGE"; do
	docker image inspect "$image" >/dev/null 2>&1 || fail "$image is not there: run \`npm run images:build\`"
done

ALL=(smoke mysql cadvisor nginx images containers dev-flow)
WANTED=("${@:-${ALL[@]}}")
STARTED=$(now_us)
for name in "${WANTED[@]}"; do
	case $name in
	smoke) smoke ;;
	mysql) mysql_lab ;;
	cadvisor) cadvisor_lab ;;
	nginx) nginx_lab ;;
	images) images_lab ;;
	containers) containers_lab ;;
	dev-flow) dev_flow ;;
	*) fail "no lab \"$name\": pick from ${ALL[*]}" ;;
	esac
done
say "total $(seconds_since "$STARTED")"
