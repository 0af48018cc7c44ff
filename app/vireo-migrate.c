/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Live migration, stop-and-copy (docs/MIGRATION.md): the wire protocol and
 * the source's side. The destination's side is vireo-run's --incoming.
 */
#include "vireo-migrate.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/block.h"
#include "engine/bus.h"
#include "engine/error.h"
#include "engine/machine.h"
#include "engine/snap.h"

#define MAGIC            "VIREOMIG"
#define PROTOCOL_VERSION 1
#define UNLOCKED         'U'

/* ---- Addresses ---------------------------------------------------------- */

/* Splits "tcp:HOST:PORT" into its host (without IPv6's brackets) and port. */
static bool split_tcp(const char *uri, char **host, char **port, GError **error)
{
    const char *rest = uri + strlen("tcp:");
    const char *colon;
    g_autofree char *h = NULL;
    guint64 value;

    if (rest[0] == '[') {
        const char *close = strchr(rest, ']');
        if (close == NULL || close[1] != ':') {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "“%s” is not tcp:[IPV6]:PORT (a “]:” is missing)", uri);
            return false;
        }
        h = g_strndup(rest + 1, (gsize)(close - rest - 1));
        colon = close + 1;
    } else {
        colon = strrchr(rest, ':');
        if (colon == NULL) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "“%s” is not tcp:HOST:PORT", uri);
            return false;
        }
        h = g_strndup(rest, (gsize)(colon - rest));
        if (strchr(h, ':') != NULL) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "“%s”: write an IPv6 address in brackets, tcp:[::1]:PORT", uri);
            return false;
        }
    }
    if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &value, NULL)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "“%s”: the port is not 1 to 65535",
                    uri);
        return false;
    }
    *host = g_steal_pointer(&h);
    *port = g_strdup(colon + 1);
    return true;
}

bool vireo_migrate_parse_uri(const char *uri, bool connect, GError **error)
{
    if (g_str_has_prefix(uri, "tcp:")) {
        g_autofree char *host = NULL, *port = NULL;
        if (!split_tcp(uri, &host, &port, error)) {
            return false;
        }
        if (connect && host[0] == '\0') {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "“%s” names no host", uri);
            return false;
        }
        return true;
    }
    if (g_str_has_prefix(uri, "unix:")) {
        const char *path = uri + strlen("unix:");
        if (path[0] == '\0' || strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "“%s”: a socket path is 1 to %zu bytes long", uri,
                        sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
            return false;
        }
        return true;
    }
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                "“%s” is not a migration address (tcp:HOST:PORT or unix:PATH)", uri);
    return false;
}

static void set_timeouts(int fd)
{
    struct timeval tv = { .tv_sec = VIREO_MIGRATE_TIMEOUT_S };

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int vireo_migrate_connect(const char *uri, GError **error)
{
    int fd = -1, err = 0;

    if (!vireo_migrate_parse_uri(uri, true, error)) {
        return -1;
    }
    if (g_str_has_prefix(uri, "unix:")) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        g_strlcpy(sa.sun_path, uri + strlen("unix:"), sizeof sa.sun_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        } else if (fd < 0) {
            err = errno;
        }
    } else {
        g_autofree char *host = NULL, *port = NULL;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *list = NULL;
        int rc;

        split_tcp(uri, &host, &port, NULL);
        rc = getaddrinfo(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, port, &hints, &list);
        if (rc != 0) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot find “%s”: %s", host,
                        gai_strerror(rc));
            return -1;
        }
        err = ENOENT;
        for (struct addrinfo *a = list; a != NULL && fd < 0; a = a->ai_next) {
            fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
            if (fd < 0) {
                err = errno;
            } else if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
                err = errno;
                close(fd);
                fd = -1;
            }
        }
        freeaddrinfo(list);
    }
    if (fd < 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot connect to %s: %s", uri,
                    g_strerror(err));
        return -1;
    }
    set_timeouts(fd);
    return fd;
}

/* ---- The wire ----------------------------------------------------------- */

static bool send_all(int fd, const void *data, gsize len, GError **error)
{
    const guint8 *p = data;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int err = errno;
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "The connection broke: %s",
                        n < 0 ? g_strerror(err) : "nothing was sent");
            return false;
        }
        p += n;
        len -= (gsize)n;
    }
    return true;
}

static bool recv_all(int fd, void *data, gsize len, GError **error)
{
    guint8 *p = data;

    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int err = errno;
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "The connection broke: %s",
                        err == EAGAIN || err == EWOULDBLOCK ? "the peer went silent"
                                                            : g_strerror(err));
            return false;
        }
        if (n == 0) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                        "The peer closed the connection before it was done");
            return false;
        }
        p += n;
        len -= (gsize)n;
    }
    return true;
}

bool vireo_migrate_send_header(int fd, GError **error)
{
    guint8 header[12];

    memcpy(header, MAGIC, 8);
    header[8] = PROTOCOL_VERSION;
    header[9] = header[10] = header[11] = 0;
    return send_all(fd, header, sizeof header, error);
}

bool vireo_migrate_send_chunk(int fd, const void *data, gsize len, GError **error)
{
    guint32 le = GUINT32_TO_LE((guint32)len);

    g_return_val_if_fail(len <= VIREO_MIGRATE_MAX_CHUNK, false);
    return send_all(fd, &le, sizeof le, error) && send_all(fd, data, len, error);
}

bool vireo_migrate_send_unlocked(int fd, GError **error)
{
    guint8 b = UNLOCKED;
    return send_all(fd, &b, 1, error);
}

bool vireo_migrate_recv_reply(int fd, VireoMigrateReply expected, GError **error)
{
    guint8 kind;
    guint32 le, len;
    char message[VIREO_MIGRATE_MAX_MESSAGE + 1];

    if (!recv_all(fd, &kind, 1, error) || !recv_all(fd, &le, sizeof le, error)) {
        return false;
    }
    len = GUINT32_FROM_LE(le);
    if (len > VIREO_MIGRATE_MAX_MESSAGE ||
        (kind != VIREO_MIGRATE_REPLY_ERROR && kind != (guint8)expected) ||
        (kind != VIREO_MIGRATE_REPLY_ERROR && len != 0)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The destination sent a reply that is not the protocol's");
        return false;
    }
    if (!recv_all(fd, message, len, error)) {
        return false;
    }
    message[len] = '\0';
    if (kind == VIREO_MIGRATE_REPLY_ERROR) {
        /* Only what prints, from an untrusted peer. */
        for (guint32 i = 0; i < len; i++) {
            if ((guint8)message[i] < 0x20 || (guint8)message[i] == 0x7f) {
                message[i] = '?';
            }
        }
        if (!g_utf8_validate(message, len, NULL)) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The destination refused the machine");
        } else {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The destination refused the machine: %s", message);
        }
        return false;
    }
    return true;
}

GBytes *vireo_migrate_recv_stream(int fd, gsize max_len, GError **error)
{
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autoptr(GArray) sections = NULL;
    guint8 header[12];

    set_timeouts(fd);
    if (!recv_all(fd, header, sizeof header, error)) {
        return NULL;
    }
    if (memcmp(header, MAGIC, 8) != 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The peer does not speak Vireo's migration protocol");
        return NULL;
    }
    if (header[8] != PROTOCOL_VERSION || header[9] != 0 || header[10] != 0 || header[11] != 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The peer speaks version %u of the migration protocol; this is version %u",
                    header[8], PROTOCOL_VERSION);
        return NULL;
    }
    for (;;) {
        guint32 le, len;

        if (!recv_all(fd, &le, sizeof le, error)) {
            return NULL;
        }
        len = GUINT32_FROM_LE(le);
        if (len == 0) {
            break;
        }
        if (len > VIREO_MIGRATE_MAX_CHUNK || len > max_len - stream->len) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        len > VIREO_MIGRATE_MAX_CHUNK
                            ? "The peer sent a chunk larger than the protocol allows"
                            : "The peer sent more state than this machine can hold");
            return NULL;
        }
        g_byte_array_set_size(stream, stream->len + len);
        if (!recv_all(fd, stream->data + stream->len - len, len, error)) {
            return NULL;
        }
    }
    sections = vireo_snap_parse(stream->data, stream->len, error);
    if (sections == NULL) {
        return NULL;
    }
    return g_byte_array_free_to_bytes(g_steal_pointer(&stream));
}

bool vireo_migrate_send_reply(int fd, VireoMigrateReply reply, const char *message, GError **error)
{
    gsize len = reply == VIREO_MIGRATE_REPLY_ERROR && message != NULL
                    ? MIN(strlen(message), VIREO_MIGRATE_MAX_MESSAGE)
                    : 0;
    guint8 head[5] = { (guint8)reply };
    guint32 le = GUINT32_TO_LE((guint32)len);

    memcpy(head + 1, &le, 4);
    return send_all(fd, head, sizeof head, error) && send_all(fd, message, len, error);
}

bool vireo_migrate_recv_unlocked(int fd, GError **error)
{
    guint8 b;

    if (!recv_all(fd, &b, 1, error)) {
        return false;
    }
    if (b != UNLOCKED) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The source sent a message that is not the protocol's");
        return false;
    }
    return true;
}

/* ---- The source --------------------------------------------------------- */

const char *vireo_migration_status_name(VireoMigrationStatus status)
{
    switch (status) {
    case VIREO_MIGRATION_NONE: return "none";
    case VIREO_MIGRATION_SETUP: return "setup";
    case VIREO_MIGRATION_ACTIVE: return "active";
    case VIREO_MIGRATION_COMPLETED: return "completed";
    case VIREO_MIGRATION_FAILED: return "failed";
    }
    return "none";
}

struct VireoMigration {
    VireoBoard *board;
    VireoMigrationNotify notify;
    void *opaque;
    GThread *thread;
    char *uri;

    GMutex lock; /* the figures below */
    VireoMigrationStatus status;
    gint64 start_us, setup_us, pause_us, end_us;
    guint64 transferred;
    char *error;
};

/* The stream in chunks: the writer's output gathered up to a chunk. */
typedef struct {
    VireoMigration *m;
    int fd;
    GByteArray *buf;
} Out;

static bool out_flush(Out *o, GError **error)
{
    if (o->buf->len == 0) {
        return true;
    }
    if (!vireo_migrate_send_chunk(o->fd, o->buf->data, o->buf->len, error)) {
        return false;
    }
    g_mutex_lock(&o->m->lock);
    o->m->transferred += o->buf->len;
    g_mutex_unlock(&o->m->lock);
    g_byte_array_set_size(o->buf, 0);
    return true;
}

static bool out_write(void *opaque, const void *data, gsize len, GError **error)
{
    Out *o = opaque;
    const guint8 *p = data;

    while (len > 0) {
        gsize n = MIN(len, VIREO_MIGRATE_MAX_CHUNK - o->buf->len);
        g_byte_array_append(o->buf, p, (guint)n);
        p += n;
        len -= n;
        if (o->buf->len == VIREO_MIGRATE_MAX_CHUNK && !out_flush(o, error)) {
            return false;
        }
    }
    return true;
}

static void set_status(VireoMigration *m, VireoMigrationStatus status, const char *error)
{
    g_mutex_lock(&m->lock);
    m->status = status;
    if (status == VIREO_MIGRATION_ACTIVE) {
        m->setup_us = g_get_monotonic_time();
    }
    if (status == VIREO_MIGRATION_COMPLETED || status == VIREO_MIGRATION_FAILED) {
        m->end_us = g_get_monotonic_time();
    }
    if (error != NULL) {
        g_free(m->error);
        m->error = g_strdup(error);
    }
    g_mutex_unlock(&m->lock);
    if (m->notify != NULL) {
        m->notify(m->opaque, status);
    }
}

/* Sends the paused machine; the disks are flushed first and their locks
 * given up once the destination has the whole stream. `*unlocked` says how
 * many disks gave theirs up. */
static bool send_machine(VireoMigration *m, int fd, unsigned *unlocked, GError **error)
{
    VireoMachine *machine = vireo_board_get_machine(m->board);
    g_autoptr(VireoSnapWriter) w = NULL;
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Out out = { m, fd, buf };
    VireoBlock *disk;

    for (unsigned i = 0; (disk = vireo_board_get_disk(m->board, i)) != NULL; i++) {
        int rc = vireo_block_flush(disk);
        if (rc < 0) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot flush the disk “%s”: %s",
                        vireo_block_get_name(disk), g_strerror(-rc));
            return false;
        }
    }
    /* save_state writes the stream whole, its end included. */
    w = vireo_snap_writer_new(out_write, &out);
    if (!vireo_migrate_send_header(fd, error) || !vireo_machine_save_state(machine, w, error) ||
        !out_flush(&out, error) || !vireo_migrate_send_chunk(fd, NULL, 0, error) ||
        !vireo_migrate_recv_reply(fd, VIREO_MIGRATE_REPLY_RECEIVED, error)) {
        return false;
    }
    for (; (disk = vireo_board_get_disk(m->board, *unlocked)) != NULL; (*unlocked)++) {
        if (!vireo_block_unlock(disk, error)) {
            return false;
        }
    }
    return vireo_migrate_send_unlocked(fd, error) &&
           vireo_migrate_recv_reply(fd, VIREO_MIGRATE_REPLY_LOADED, error);
}

static gpointer migration_thread(gpointer data)
{
    VireoMigration *m = data;
    VireoMachine *machine = vireo_board_get_machine(m->board);
    g_autoptr(GError) error = NULL;
    unsigned unlocked = 0;
    bool running, ok = false;
    int fd;

    fd = vireo_migrate_connect(m->uri, &error);
    if (fd >= 0) {
        set_status(m, VIREO_MIGRATION_ACTIVE, NULL);
        running = vireo_machine_state(machine) == VIREO_MACHINE_RUNNING;
        g_mutex_lock(&m->lock);
        m->pause_us = g_get_monotonic_time();
        g_mutex_unlock(&m->lock);
        if (running) {
            vireo_machine_pause(machine);
        }
        ok = send_machine(m, fd, &unlocked, &error);
        close(fd);
        if (!ok) {
            /* The disks back, then the machine as it was. A disk another
             * program took meanwhile (the destination, after all) keeps the
             * machine paused: two machines must never write one disk. */
            bool disks = true;
            for (unsigned i = 0; i < unlocked; i++) {
                g_autoptr(GError) lock_error = NULL;
                if (!vireo_block_relock(vireo_board_get_disk(m->board, i), &lock_error)) {
                    g_prefix_error(&error, "%s; the machine stays paused: ", lock_error->message);
                    disks = false;
                }
            }
            if (running && disks) {
                vireo_machine_resume(machine);
            }
        }
    }
    set_status(m, ok ? VIREO_MIGRATION_COMPLETED : VIREO_MIGRATION_FAILED,
               ok ? NULL : error->message);
    return NULL;
}

VireoMigration *vireo_migration_new(VireoBoard *board, VireoMigrationNotify notify, void *opaque)
{
    VireoMigration *m = g_new0(VireoMigration, 1);

    m->board = board;
    m->notify = notify;
    m->opaque = opaque;
    g_mutex_init(&m->lock);
    return m;
}

void vireo_migration_free(VireoMigration *m)
{
    if (m == NULL) {
        return;
    }
    if (m->thread != NULL) {
        g_thread_join(m->thread);
    }
    g_free(m->uri);
    g_free(m->error);
    g_mutex_clear(&m->lock);
    g_free(m);
}

bool vireo_migration_start(VireoMigration *m, const char *uri, GError **error)
{
    VireoMigrationStatus status;

    if (!vireo_migrate_parse_uri(uri, true, error)) {
        return false;
    }
    g_mutex_lock(&m->lock);
    status = m->status;
    if (status == VIREO_MIGRATION_SETUP || status == VIREO_MIGRATION_ACTIVE ||
        status == VIREO_MIGRATION_COMPLETED) {
        g_mutex_unlock(&m->lock);
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    status == VIREO_MIGRATION_COMPLETED
                        ? "The machine has migrated already"
                        : "There's a migration process in progress");
        return false;
    }
    m->status = VIREO_MIGRATION_SETUP;
    m->start_us = g_get_monotonic_time();
    m->setup_us = m->pause_us = m->end_us = 0;
    m->transferred = 0;
    g_clear_pointer(&m->error, g_free);
    g_mutex_unlock(&m->lock);
    if (m->thread != NULL) {
        g_thread_join(m->thread);
    }
    g_free(m->uri);
    m->uri = g_strdup(uri);
    if (m->notify != NULL) {
        m->notify(m->opaque, VIREO_MIGRATION_SETUP);
    }
    m->thread = g_thread_new("migration", migration_thread, m);
    return true;
}

VireoMigrationStatus vireo_migration_get_status(VireoMigration *m)
{
    VireoMigrationStatus status;

    g_mutex_lock(&m->lock);
    status = m->status;
    g_mutex_unlock(&m->lock);
    return status;
}

static gint64 ms(gint64 us)
{
    return us / 1000;
}

VireoJson *vireo_migration_query(VireoMigration *m)
{
    VireoJson *r = vireo_json_new_object();
    VireoJson *ram;
    gint64 now = g_get_monotonic_time(), end;
    const VireoRegion *region = vireo_bus_ram(vireo_machine_bus(vireo_board_get_machine(m->board)));
    guint64 ram_size = region != NULL ? region->size : 0;

    g_mutex_lock(&m->lock);
    if (m->status == VIREO_MIGRATION_NONE) {
        g_mutex_unlock(&m->lock);
        return r;
    }
    end = m->end_us != 0 ? m->end_us : now;
    vireo_json_object_set(r, "status",
                          vireo_json_new_string(vireo_migration_status_name(m->status)));
    vireo_json_object_set(r, "total-time", vireo_json_new_int(ms(end - m->start_us)));
    if (m->setup_us != 0) {
        vireo_json_object_set(r, "setup-time", vireo_json_new_int(ms(m->setup_us - m->start_us)));
    }
    if (m->status == VIREO_MIGRATION_COMPLETED) {
        vireo_json_object_set(r, "downtime", vireo_json_new_int(ms(end - m->pause_us)));
    }
    if (m->status == VIREO_MIGRATION_FAILED && m->error != NULL) {
        vireo_json_object_set(r, "error-desc", vireo_json_new_string(m->error));
    }
    if (m->setup_us != 0) {
        double seconds = (double)(end - m->setup_us) / G_USEC_PER_SEC;
        ram = vireo_json_new_object();
        vireo_json_object_set(ram, "transferred", vireo_json_new_int((gint64)m->transferred));
        vireo_json_object_set(ram, "total", vireo_json_new_int((gint64)ram_size));
        vireo_json_object_set(
            ram, "remaining",
            vireo_json_new_int(m->status == VIREO_MIGRATION_COMPLETED ? 0 : (gint64)ram_size));
        vireo_json_object_set(
            ram, "mbps",
            vireo_json_new_double(seconds > 0 ? (double)m->transferred * 8 / seconds / 1e6 : 0.0));
        vireo_json_object_set(ram, "dirty-sync-count", vireo_json_new_int(1));
        vireo_json_object_set(r, "ram", ram);
    }
    g_mutex_unlock(&m->lock);
    return r;
}
