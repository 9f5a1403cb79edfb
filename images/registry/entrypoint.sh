#!/bin/sh
set -e
case "$1" in
    *.yaml | *.yml) set -- /usr/bin/docker-registry serve "$@" ;;
    serve | garbage-collect | help | -*) set -- /usr/bin/docker-registry "$@" ;;
esac
exec "$@"
