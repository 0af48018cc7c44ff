/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "engine/scanout.h"
#include "vireo-json.h"

G_BEGIN_DECLS

/*
 * The QMP monitor (QEMU's machine protocol, as QEMU 7.2 speaks it; see
 * docs/QMP.md): sessions that take bytes from a client and give back the
 * greeting, replies and events, and the commands they run on a host. No
 * socket here (vireo-qmp-server.h serves sessions on one); the host is a
 * table of operations (vireo-qmp-machine.h binds it to a VireoMachine), so
 * that the protocol and its commands run and are fuzzed without a machine.
 *
 * Threads: sessions and vireo_qmp_flush_events() run on one thread, the
 * monitor's; the host's operations run one at a time, on that thread or on
 * the thread of a caller of the public snapshot functions below.
 * vireo_qmp_emit_event() may be called from any thread.
 */

/* Bytes of one JSON value a client may send; longer ones are refused and
 * skipped. */
#define VIREO_QMP_MAX_INPUT (1024 * 1024)
/* Events kept for a monitor thread that is late to send them; beyond, the
 * oldest go. */
#define VIREO_QMP_MAX_QUEUED_EVENTS 1024

/* The QEMU version whose protocol the monitor speaks (query-version's
 * "qemu"); Vireo's own is in "package". */
#define VIREO_QMP_QEMU_MAJOR 7
#define VIREO_QMP_QEMU_MINOR 2
#define VIREO_QMP_QEMU_MICRO 0

/* Error classes of replies; errors of other domains are GenericError. */
#define VIREO_QMP_ERROR (vireo_qmp_error_quark())
GQuark vireo_qmp_error_quark(void);

typedef enum {
    VIREO_QMP_ERROR_GENERIC,           /* "GenericError" */
    VIREO_QMP_ERROR_COMMAND_NOT_FOUND, /* "CommandNotFound" */
    VIREO_QMP_ERROR_DEVICE_NOT_FOUND,  /* "DeviceNotFound" */
} VireoQmpErrorClass;

/* QEMU's run states that a machine can be in (query-status). */
typedef enum {
    VIREO_QMP_STATUS_PRELAUNCH, /* built, not started */
    VIREO_QMP_STATUS_RUNNING,
    VIREO_QMP_STATUS_PAUSED,
    VIREO_QMP_STATUS_SHUTDOWN,       /* stopped for good (power-off, quit) */
    VIREO_QMP_STATUS_INTERNAL_ERROR, /* stopped by a fault */
    VIREO_QMP_STATUS_POSTMIGRATE,    /* paused for good: the machine migrated */
} VireoQmpStatus;

const char *vireo_qmp_status_name(VireoQmpStatus status);

/* One snapshot, a row of the HMP command `info snapshots`. */
typedef struct {
    char *id;              /* the store's id, or NULL */
    char *name;            /* its tag */
    guint64 vm_state_size; /* bytes of machine state */
    gint64 date;           /* when it was taken: seconds since the Unix epoch */
    guint64 vm_clock_ns;   /* the guest's clock then */
} VireoQmpSnapshot;

VireoQmpSnapshot *vireo_qmp_snapshot_new(const char *id, const char *name, guint64 vm_state_size,
                                         gint64 date, guint64 vm_clock_ns);
void vireo_qmp_snapshot_free(VireoQmpSnapshot *snapshot);

/*
 * What the monitor asks of its host, on the monitor's thread. Operations
 * that fail set a GError whose message goes to the client. Optional ones may
 * be NULL: the monitor then says the feature is not available.
 */
typedef struct {
    VireoQmpStatus (*get_status)(void *host);
    /* Pause and resume the vCPUs; doing either twice is no error. */
    bool (*stop)(void *host, GError **error);
    bool (*cont)(void *host, GError **error);
    /* Reset the machine (devices, memory images, vCPUs); it stays paused
     * or running. */
    bool (*system_reset)(void *host, GError **error);
    /* Ask the guest to power down (press its power button). Optional: the
     * monitor sends the POWERDOWN event either way, as QEMU does. */
    bool (*system_powerdown)(void *host, GError **error);
    /* End the machine and the program; the reply is still sent. */
    void (*quit)(void *host);
    unsigned (*n_cpus)(void *host);
    /* The host thread id of a vCPU's worker thread, -1 when unknown. */
    gint64 (*cpu_thread_id)(void *host, unsigned index);
    /* The display's output, or NULL without a display. Optional. */
    VireoScanout *(*get_scanout)(void *host);
    /* Snapshots (optional, all or none). savevm and loadvm are called with
     * the machine paused: the monitor pauses a running machine first and
     * resumes it afterwards (after loadvm only when it succeeded), as QEMU's
     * HMP commands do. savevm replaces a snapshot of the same name. */
    bool (*savevm)(void *host, const char *name, GError **error);
    bool (*loadvm)(void *host, const char *name, GError **error);
    bool (*delvm)(void *host, const char *name, GError **error);
    /* Optional: true, with the reason, while the machine must not change
     * (a migration sends it); savevm and loadvm check it before they pause
     * the machine. */
    bool (*busy)(void *host, GError **error);
    /* The snapshots (VireoQmpSnapshot, freed by the monitor), or NULL and
     * an error. */
    GPtrArray *(*list_snapshots)(void *host, GError **error);
    /* Live migration (optional, all or none; docs/MIGRATION.md): start one
     * to `uri` (it goes on in the background), query-migrate's reply
     * object, cancel the one under way, and the downtime it aims for. */
    bool (*migrate)(void *host, const char *uri, GError **error);
    VireoJson *(*query_migrate)(void *host);
    void (*migrate_cancel)(void *host);
    void (*migrate_set_downtime_limit)(void *host, gint64 ms);
} VireoQmpHostOps;

typedef struct VireoQmp VireoQmp;

VireoQmp *vireo_qmp_new(const VireoQmpHostOps *ops, void *host);
/* After every session is freed. */
void vireo_qmp_free(VireoQmp *qmp);
/* The machine's name for query-name (none by default). */
void vireo_qmp_set_name(VireoQmp *qmp, const char *name);

/* Queues an event with `data` (taken; NULL for none) and the time now, for
 * every session that has negotiated, and calls the notify function. Any
 * thread. */
void vireo_qmp_emit_event(VireoQmp *qmp, const char *name, VireoJson *data);
typedef void (*VireoQmpNotifyFunc)(void *opaque);
/* Called on the emitting thread after an event was queued (with the queue's
 * lock held: it must not emit or wait), so that the monitor's thread calls
 * vireo_qmp_flush_events() soon. Once this returns, the previous function is
 * not running. */
void vireo_qmp_set_event_notify(VireoQmp *qmp, VireoQmpNotifyFunc func, void *opaque);
/* Sends the queued events to the sessions. Replies send them first too, so
 * that an event a command caused comes before its reply. */
void vireo_qmp_flush_events(VireoQmp *qmp);

/* The snapshot operations of the human monitor's savevm, loadvm, delvm and
 * info snapshots, for a host's own controls (the application's snapshot
 * button): the same checks, the same pause around savevm and loadvm, and the
 * same events to the clients. Any thread; they run one at a time with the
 * clients' commands. `name` NULL for savevm: one made of the date and time.
 * list_snapshots returns VireoQmpSnapshot rows (the array frees them). */
bool vireo_qmp_savevm(VireoQmp *qmp, const char *name, GError **error);
bool vireo_qmp_loadvm(VireoQmp *qmp, const char *name, GError **error);
bool vireo_qmp_delvm(VireoQmp *qmp, const char *name, GError **error);
GPtrArray *vireo_qmp_list_snapshots(VireoQmp *qmp, GError **error);

/* One client. `write` gets every message (a JSON object and CRLF); the
 * greeting is written at once. */
typedef struct VireoQmpSession VireoQmpSession;
typedef void (*VireoQmpWriteFunc)(void *opaque, const char *data, size_t len);

VireoQmpSession *vireo_qmp_session_new(VireoQmp *qmp, VireoQmpWriteFunc write, void *opaque);
/* Bytes from the client: commands run as they complete. */
void vireo_qmp_session_feed(VireoQmpSession *session, const void *data, size_t len);
bool vireo_qmp_session_negotiated(VireoQmpSession *session);
/* After `quit`: the session takes no more commands. */
bool vireo_qmp_session_quitting(VireoQmpSession *session);
void vireo_qmp_session_free(VireoQmpSession *session);

G_END_DECLS
