/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/board.h"
#include "engine/machine.h"
#include "vireo-json.h"

G_BEGIN_DECLS

/*
 * Live migration between two vireo-run processes (docs/MIGRATION.md). The
 * source sends RAM while the machine runs (pre-copy), in rounds, each round
 * the pages written during the one before, until what is left fits the
 * downtime limit; then it pauses the machine, flushes its disks and sends
 * the rest with every vCPU and device. The destination, which has not built
 * its board yet, gathers RAM in an image, checks the final stream's framing
 * and says so; the source gives up its disks' locks; the destination builds
 * the board (taking the locks), loads the state, says so and starts. Only
 * then does the source stop.
 *
 * Addresses: "tcp:HOST:PORT" ("[::1]" for IPv6) or "unix:PATH".
 */

/* Bytes of one chunk of the stream on the wire. */
#define VIREO_MIGRATE_MAX_CHUNK (1u << 20)
/* Bytes of a message from the destination. */
#define VIREO_MIGRATE_MAX_MESSAGE 1024
/* Seconds a peer may stay silent while the other waits for it. */
#define VIREO_MIGRATE_TIMEOUT_S 60

/* Whether `uri` is an address a migration can go to; false with
 * VIREO_ERROR_CONFIG and what is wrong. `connect`: the host must be given
 * (a destination may listen on "tcp::PORT"). */
bool vireo_migrate_parse_uri(const char *uri, bool connect, GError **error);
/* A connected socket to `uri`, or -1 with an error. */
int vireo_migrate_connect(const char *uri, GError **error);

/* ---- The wire protocol, on a connected socket -------------------------- */

/* Replies of the destination. */
typedef enum {
    VIREO_MIGRATE_REPLY_RECEIVED = 'R', /* the stream is whole and well framed */
    VIREO_MIGRATE_REPLY_LOADED = 'L',   /* the destination has the machine */
    VIREO_MIGRATE_REPLY_ERROR = 'E',    /* refused, with the reason */
} VireoMigrateReply;

/* Kinds of stream from the source. */
typedef enum {
    VIREO_MIGRATE_STREAM_RAM = 'P',   /* a round of pre-copy: RAM sections alone */
    VIREO_MIGRATE_STREAM_STATE = 'S', /* the final stream: the whole machine */
} VireoMigrateStream;

/* The source: the header (a magic and the protocol's version). */
bool vireo_migrate_send_header(int fd, GError **error);
/* The source: a stream's kind, then its chunks (1 to
 * VIREO_MIGRATE_MAX_CHUNK bytes each), then an empty chunk for its end. */
bool vireo_migrate_send_kind(int fd, VireoMigrateStream kind, GError **error);
bool vireo_migrate_send_chunk(int fd, const void *data, gsize len, GError **error);
/* The source: that it gave up its disks' locks. */
bool vireo_migrate_send_unlocked(int fd, GError **error);
/* The source: the destination's next reply; an error reply fails with its
 * message. */
bool vireo_migrate_recv_reply(int fd, VireoMigrateReply expected, GError **error);

/* The destination: the header, every round of RAM (applied to `image` as it
 * comes), then the final stream, whose RAM sections go into `image` too and
 * which is returned (checked: framing and CRC). Each stream is at most
 * `max_len` bytes. NULL with an error for anything else; `image` must then
 * be thrown away. */
GBytes *vireo_migrate_recv_machine(int fd, VireoRamImage *image, gsize max_len, GError **error);
/* The destination: a reply (`message` for VIREO_MIGRATE_REPLY_ERROR). */
bool vireo_migrate_send_reply(int fd, VireoMigrateReply reply, const char *message, GError **error);
/* The destination: waits for the source's word that its disks are free. */
bool vireo_migrate_recv_unlocked(int fd, GError **error);

/* ---- The source --------------------------------------------------------- */

typedef enum {
    VIREO_MIGRATION_NONE,
    VIREO_MIGRATION_SETUP,
    VIREO_MIGRATION_ACTIVE,
    VIREO_MIGRATION_COMPLETED,
    VIREO_MIGRATION_FAILED,
    VIREO_MIGRATION_CANCELLING,
    VIREO_MIGRATION_CANCELLED,
} VireoMigrationStatus;

const char *vireo_migration_status_name(VireoMigrationStatus status);

typedef struct VireoMigration VireoMigration;

/* `status_changed` is called on the migration's thread with each new
 * status (for the MIGRATION event). */
typedef void (*VireoMigrationNotify)(void *opaque, VireoMigrationStatus status);

VireoMigration *vireo_migration_new(VireoBoard *board, VireoMigrationNotify notify, void *opaque);
/* Waits for a migration under way. */
void vireo_migration_free(VireoMigration *m);
/* Starts a migration to `uri` on a thread of its own; false when one is
 * under way or has completed, or the address is malformed. */
bool vireo_migration_start(VireoMigration *m, const char *uri, GError **error);
/* Stops a migration under way before the switch-over (cancelling, then
 * cancelled); the machine runs on as before. Nothing happens to one that
 * is not under way, or that is past the point where the destination may
 * hold the disks. */
void vireo_migration_cancel(VireoMigration *m);
/* The downtime the pre-copy aims for, in milliseconds (300 by default). */
void vireo_migration_set_downtime_limit(VireoMigration *m, guint64 ms);
VireoMigrationStatus vireo_migration_get_status(VireoMigration *m);
/* query-migrate's reply, as QEMU shapes it. */
VireoJson *vireo_migration_query(VireoMigration *m);

G_END_DECLS
