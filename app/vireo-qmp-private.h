/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "vireo-qmp.h"

G_BEGIN_DECLS

/* What the QMP commands and the HMP commands behind human-monitor-command
 * share (app/vireo-qmp.c, app/vireo-qmp-hmp.c). */

struct VireoQmp {
    const VireoQmpHostOps *ops;
    void *host;
    char *name;
    GPtrArray *sessions; /* VireoQmpSession, the monitor thread's */

    GMutex run_lock; /* held while a command or a public operation runs */

    GMutex lock;   /* the event queue */
    GQueue events; /* QueuedEvent */
    guint64 next_seq;
    VireoQmpNotifyFunc notify;
    void *notify_opaque;

    gint64 downtime_limit; /* migrate-set-parameters, in ms; run_lock */
};

/* The operations both kinds of command run; errors are for the client. */
bool _vireo_qmp_stop(VireoQmp *qmp, GError **error);
bool _vireo_qmp_cont(VireoQmp *qmp, GError **error);
bool _vireo_qmp_system_reset(VireoQmp *qmp, GError **error);
bool _vireo_qmp_system_powerdown(VireoQmp *qmp, GError **error);
void _vireo_qmp_quit(VireoQmp *qmp);
/* `name` NULL: a name made of the date and time, as QEMU makes one. */
bool _vireo_qmp_savevm(VireoQmp *qmp, const char *name, GError **error);
bool _vireo_qmp_loadvm(VireoQmp *qmp, const char *name, GError **error);
bool _vireo_qmp_delvm(VireoQmp *qmp, const char *name, GError **error);
GPtrArray *_vireo_qmp_list_snapshots(VireoQmp *qmp, GError **error);

/* Runs one HMP command line (`len` bytes, which may hold NULs) and returns
 * what the human monitor prints, lines ending in CRLF. `quit` is set when
 * the line quits. */
char *_vireo_qmp_hmp_run(VireoQmp *qmp, const char *line, size_t len, bool *quit);

G_END_DECLS
