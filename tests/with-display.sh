#!/bin/sh
# Runs a command with a display: the session's own when there is one,
# otherwise a private Xvfb server.
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    exec "$@"
fi
if ! command -v xvfb-run >/dev/null 2>&1; then
    echo "with-display: no display and xvfb-run is not installed (run scripts/setup)" >&2
    exit 1
fi
exec xvfb-run -a -s "-screen 0 1280x1024x24" "$@"
