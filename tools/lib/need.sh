# Sourced by the pre-flight, the labs and the benchmarks: they install nothing themselves.
#   need PROGRAM PACKAGE [WHAT]   PROGRAM (a path, or a command on PATH) must be there; otherwise one
#                                 line names it and the Debian package that brings it, and need fails.
# SetupPackagesTests checks that every PACKAGE named in a need line is in tools/setup.sh.
need() {
    case $1 in
        /*) [ -e "$1" ] && return 0 ;;
        *) command -v "$1" >/dev/null 2>&1 && return 0 ;;
    esac
    echo "missing $1${3:+ ($3)}: Debian package $2; run tools/setup.sh --test, and add $2 to its list if it is not there" >&2
    return 1
}
