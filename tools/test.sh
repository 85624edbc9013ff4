#!/bin/sh
# Sets up and runs every test: unit tests (no privileges), integration tests that load the real
# BPF programs on this kernel, and end-to-end tests of the built binary. Run as root on Debian 12
# with the Swift toolchain; without root the privileged tests are skipped, each with its reason.
set -eu
cd "$(dirname "$0")/.."
tools/setup.sh --test
swift build --build-tests
swift test
