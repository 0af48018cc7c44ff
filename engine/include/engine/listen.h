/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Listening sockets for the servers a machine offers to the host (the GDB
 * stub, the QMP monitor), from one address syntax:
 *
 *   tcp:[HOST]:PORT  an IPv4 or IPv6 address ("[::1]" for IPv6); an empty
 *                    HOST or "localhost" is 127.0.0.1; PORT 0 picks a free
 *                    port
 *   unix:PATH        a Unix socket at PATH (not removed first when it exists)
 */

/* Listens on `spec` with room for `backlog` waiting connections; returns the
 * socket (close-on-exec) or -1. `address` gets where it listens, for
 * messages ("127.0.0.1:1234", "[::1]:1234" or the path); `unix_path` (may be
 * NULL) the socket's path, which the caller removes when done, or NULL for
 * TCP. A malformed spec is VIREO_ERROR_CONFIG; an address that cannot be
 * listened on (in use) VIREO_ERROR_IO. */
int vireo_listen(const char *spec, int backlog, char **address, char **unix_path, GError **error);

G_END_DECLS
