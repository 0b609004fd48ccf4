# Sourced (". DIR/valgrind.sh") at the top of the shell tests. Under
# `meson test --setup valgrind` the shell itself runs under memcheck (dash
# leaks by design): the script re-executes natively, and $run is the
# valgrind command line it prefixes the programs it tests with ("" when not
# under valgrind).
if [ -n "${INGESTCHECK_UNDER_VALGRIND:-}" ] && [ -z "${INGESTCHECK_SH_REEXEC:-}" ]; then
    INGESTCHECK_SH_REEXEC=1 exec /bin/sh "$0" "$@"
fi
run=""
if [ -n "${INGESTCHECK_UNDER_VALGRIND:-}" ]; then
    run="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect -q"
fi
