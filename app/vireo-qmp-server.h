/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "vireo-qmp.h"

G_BEGIN_DECLS

/*
 * The QMP monitor on a socket: one thread that accepts clients (several at
 * once, up to VIREO_QMP_MAX_CLIENTS), serves each a session of the monitor,
 * and sends the monitor's events. Sockets never block the thread: what a
 * client does not read waits in a buffer, and a client that lets it grow
 * past VIREO_QMP_MAX_OUTPUT is disconnected; its input is read only while
 * little output waits.
 *
 * The address, as QEMU's -qmp takes it:
 *
 *   unix:PATH[,OPTION…]
 *   tcp:[HOST]:PORT[,OPTION…]   (HOST 127.0.0.1 unless given; PORT 0 picks one)
 *
 * with the options "server" (also "server=on"), "wait=on|off" ("wait",
 * "nowait"), and ",," for a comma in PATH. The monitor always listens:
 * "server=off" (QEMU's client socket) is refused. As with QEMU, "server"
 * without "wait=off" waits for a client before the machine starts; an
 * address without any option listens without waiting.
 */

#define VIREO_QMP_MAX_CLIENTS 16
#define VIREO_QMP_MAX_OUTPUT  (4 * 1024 * 1024)

typedef struct VireoQmpServer VireoQmpServer;

/* Checks `spec`; `address` (may be NULL) gets the socket's address for
 * vireo_listen() ("unix:PATH" or "tcp:HOST:PORT"), `wait` whether to wait
 * for a client. A malformed spec is VIREO_ERROR_CONFIG. */
bool vireo_qmp_server_parse(const char *spec, char **address, bool *wait, GError **error);

/* Listens on `spec` and serves `qmp` on a thread of its own. Errors as
 * vireo_listen()'s: VIREO_ERROR_CONFIG for a malformed spec, VIREO_ERROR_IO
 * for an address that cannot be listened on. */
VireoQmpServer *vireo_qmp_server_new(VireoQmp *qmp, const char *spec, GError **error);
/* Where it listens, for messages: "127.0.0.1:4444" or the socket's path. */
const char *vireo_qmp_server_address(VireoQmpServer *server);
/* Whether the spec asked to wait for a client. */
bool vireo_qmp_server_get_wait(VireoQmpServer *server);
/* Returns once a client has connected (at once if one has). */
void vireo_qmp_server_wait_for_client(VireoQmpServer *server);
/* Sends what is queued (the last events and replies; a second at most),
 * closes every connection and the socket (a Unix socket's file is removed)
 * and ends the thread. */
void vireo_qmp_server_free(VireoQmpServer *server);

G_END_DECLS
