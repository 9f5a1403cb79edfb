#!/bin/sh
/docker-entrypoint.sh "$@" &
server=$!
trap 'sleep 8; kill -QUIT "$server"' QUIT
# The first wait ends when SIGQUIT arrives (the trap then runs); the second collects nginx's own exit status.
wait "$server"
wait "$server"
