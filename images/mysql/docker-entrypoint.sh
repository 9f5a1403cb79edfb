#!/bin/bash
# The official mysql:5.7 entrypoint contract, implemented for MariaDB:
# one of MYSQL_ROOT_PASSWORD / MYSQL_ALLOW_EMPTY_PASSWORD / MYSQL_RANDOM_ROOT_PASSWORD, MYSQL_ROOT_HOST,
# MYSQL_DATABASE, MYSQL_USER + MYSQL_PASSWORD, MYSQL_ONETIME_PASSWORD, *_FILE variants,
# /docker-entrypoint-initdb.d. The server listens on 3306 only once initialisation is complete.
set -eo pipefail
shopt -s nullglob

log() { printf '%s [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*"; }
die() {
	log "ERROR: $*" >&2
	exit 1
}

# VAR may come from the file named by VAR_FILE (docker secrets); both at once is ambiguous.
load_env() {
	local var=$1 file_var="${1}_FILE" value=${2:-}
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		die "both $var and $file_var are set; use one of them"
	fi
	if [ -n "${!var:-}" ]; then
		value=${!var}
	elif [ -n "${!file_var:-}" ]; then
		value=$(<"${!file_var}")
	fi
	export "$var"="$value"
	unset "$file_var"
}

sql_string() {
	local s=${1//\\/\\\\}
	printf "'%s'" "${s//\'/\\\'}"
}

sql_name() { printf '`%s`' "${1//\`/\`\`}"; }

# The datadir, socket and InnoDB page size the server will use, from its options and config files, in one reading.
server_options() {
	"$@" --verbose --help 2>/dev/null | awk '/^[^ ]/ { option[$1] = $2 }
		END { print option["datadir"], option["socket"], option["innodb-page-size"] }'
}

client() {
	MYSQL_PWD="${ROOT_PASSWORD_SET:-}" mysql --protocol=socket --socket="$SOCKET" -uroot --batch --skip-column-names "$@"
}

wait_for_temporary_server() {
	local tries
	for tries in {300..0}; do
		if [ -S "$SOCKET" ] && client -e 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || die "the temporary server exited during initialisation"
		sleep 0.1
	done
	die "the temporary server did not come up within 30 s"
}

run_init_file() {
	local file=$1 database_args=()
	[ -n "$MYSQL_DATABASE" ] && database_args=("$MYSQL_DATABASE")
	case "$file" in
		*.sh)
			if [ -x "$file" ]; then
				log "running $file"
				"$file"
			else
				log "sourcing $file"
				# shellcheck disable=SC1090
				. "$file"
			fi
			;;
		*.sql) log "running $file"; client "${database_args[@]}" <"$file" ;;
		*.sql.gz) log "running $file"; gunzip -c "$file" | client "${database_args[@]}" ;;
		*.sql.xz) log "running $file"; xzcat "$file" | client "${database_args[@]}" ;;
		*) log "ignoring $file" ;;
	esac
}

initialise() {
	load_env MYSQL_ROOT_PASSWORD
	load_env MYSQL_ROOT_HOST %
	load_env MYSQL_DATABASE
	load_env MYSQL_USER
	load_env MYSQL_PASSWORD
	load_env MYSQL_ALLOW_EMPTY_PASSWORD
	load_env MYSQL_RANDOM_ROOT_PASSWORD
	load_env MYSQL_ONETIME_PASSWORD

	if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "$MYSQL_ALLOW_EMPTY_PASSWORD" ] && [ -z "$MYSQL_RANDOM_ROOT_PASSWORD" ]; then
		die "the database is uninitialised and no root password option is set: set one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD or MYSQL_RANDOM_ROOT_PASSWORD"
	fi
	if [ "$MYSQL_USER" = root ]; then
		die "MYSQL_USER=root is not allowed: root is set up by MYSQL_ROOT_PASSWORD; name another user in MYSQL_USER"
	fi
	if [ -n "$MYSQL_USER" ] && [ -z "$MYSQL_PASSWORD" ]; then
		log "WARNING: MYSQL_USER is set without MYSQL_PASSWORD; no user is created"
	fi

	log "initialising the database in $DATADIR"
	mkdir -p "$DATADIR"
	chown mysql:mysql "$DATADIR"
	# The image's system tables, made at build time, fit a server of the same page size; any other gets its own.
	local tables=/usr/local/share/mysql-datadir/$PAGE_SIZE
	if [ -d "$tables" ]; then
		cp -a --sparse=always "$tables/." "$DATADIR/"
	else
		mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db \
			--auth-root-authentication-method=normal --skip-name-resolve >/dev/null
	fi

	"$@" --user=mysql --skip-networking --socket="$SOCKET" &
	SERVER_PID=$!
	wait_for_temporary_server

	if [ -n "$MYSQL_RANDOM_ROOT_PASSWORD" ]; then
		MYSQL_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
		echo "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
	fi

	local password host sql
	password=$(sql_string "$MYSQL_ROOT_PASSWORD")
	host=$(sql_string "$MYSQL_ROOT_HOST")
	sql="DELETE FROM mysql.global_priv WHERE User = '' OR (User IN ('root', 'mysql') AND Host <> 'localhost') OR User = 'mysql';"
	sql+="DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';"
	sql+="FLUSH PRIVILEGES;"
	sql+="ALTER USER 'root'@'localhost' IDENTIFIED BY $password;"
	if [ "$MYSQL_ROOT_HOST" != localhost ]; then
		sql+="CREATE USER 'root'@$host IDENTIFIED BY $password;"
		sql+="GRANT ALL ON *.* TO 'root'@$host WITH GRANT OPTION;"
	fi
	sql+="DROP DATABASE IF EXISTS test;"
	client <<<"$sql"
	ROOT_PASSWORD_SET=$MYSQL_ROOT_PASSWORD

	if [ -n "$MYSQL_DATABASE" ]; then
		log "creating database $MYSQL_DATABASE"
		client <<<"CREATE DATABASE IF NOT EXISTS $(sql_name "$MYSQL_DATABASE");"
	fi
	if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
		log "creating user $MYSQL_USER"
		sql="CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");"
		if [ -n "$MYSQL_DATABASE" ]; then
			sql+="GRANT ALL ON $(sql_name "$MYSQL_DATABASE").* TO $(sql_string "$MYSQL_USER")@'%';"
		fi
		client <<<"$sql"
	fi

	local file
	for file in /docker-entrypoint-initdb.d/*; do
		run_init_file "$file"
	done

	if [ -n "$MYSQL_ONETIME_PASSWORD" ] && [ "$MYSQL_ROOT_HOST" != localhost ]; then
		client <<<"ALTER USER 'root'@$host PASSWORD EXPIRE;"
	fi

	# SHUTDOWN, not mysqladmin shutdown, which polls for the server's end once a second.
	client <<<"SHUTDOWN;"
	wait "$SERVER_PID"
	log "initialisation complete; starting the server"
}

if [ "${1:0:1}" = - ]; then
	set -- mysqld "$@"
fi

if [ "$1" = mysqld ] || [ "$1" = mariadbd ]; then
	read -r DATADIR SOCKET PAGE_SIZE < <(server_options "$@")
	DATADIR=${DATADIR%/}
	mkdir -p "$(dirname "$SOCKET")"
	chown mysql:mysql "$(dirname "$SOCKET")"
	if [ ! -d "$DATADIR/mysql" ]; then
		initialise "$@"
	fi
	unset MYSQL_ROOT_PASSWORD MYSQL_PASSWORD ROOT_PASSWORD_SET
	exec setpriv --reuid=mysql --regid=mysql --init-groups "$@"
fi

exec "$@"
