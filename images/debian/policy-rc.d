#!/bin/sh
# A container has no init system: package scripts must not try to start services while an image builds.
exit 101
