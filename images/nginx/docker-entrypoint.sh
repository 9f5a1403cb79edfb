#!/bin/sh
# Like the official image: hooks in /docker-entrypoint.d run before nginx, and only when nginx is the command.
set -e
if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
    for hook in /docker-entrypoint.d/*; do
        case "$hook" in
            *.sh) if [ -x "$hook" ]; then echo "$0: running $hook"; "$hook"; fi ;;
            *.envsh) if [ -x "$hook" ]; then echo "$0: sourcing $hook"; . "$hook"; fi ;;
        esac
    done
fi
exec "$@"
