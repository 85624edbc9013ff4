#!/bin/sh
# Sets up and runs every test: unit tests (no privileges), integration tests that load the real
# BPF programs on this kernel, and end-to-end tests of the built binary. Run as root on Debian 12
# with the Swift toolchain; without root the privileged tests are skipped, each with its reason
# (under CI=true a skipped privileged test fails the run: CI is root, so a skip there is a missing
# prerequisite).
set -eu
cd "$(dirname "$0")/.."
tools/setup.sh --test
tools/preflight.sh
swift build --build-tests
swift test
