#!/bin/sh
# A stand-in for the image's program: greets, then runs until SIGTERM,
# which it answers by exiting 0, as a well-behaved server does.
greeting=world
while [ $# -gt 0 ]; do
  case $1 in
    --greeting) greeting=$2; shift 2 ;;
    *) echo "app: unknown argument $1" >&2; exit 2 ;;
  esac
done
trap 'echo "app: stopping"; exit 0' TERM
echo "app: $greeting"
while :; do sleep 1 & wait $!; done
