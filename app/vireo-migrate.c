/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Live migration with pre-copy (docs/MIGRATION.md): the wire protocol and
 * the source's side. The destination's side is vireo-run's --incoming.
 */
#include "vireo-migrate.h"

#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
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
#define PROTOCOL_VERSION 2
#define UNLOCKED         'U'
/* Rounds of pre-copy before the rest is sent with the machine paused,
 * converged or not. */
#define MAX_ROUNDS 30

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

bool vireo_migrate_send_kind(int fd, VireoMigrateStream kind, GError **error)
{
    guint8 b = (guint8)kind;
    return send_all(fd, &b, 1, error);
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

/* One stream (its chunks, up to the empty one) into `stream`. */
static bool recv_chunks(int fd, GByteArray *stream, gsize max_len, GError **error)
{
    g_byte_array_set_size(stream, 0);
    for (;;) {
        guint32 le, len;

        if (!recv_all(fd, &le, sizeof le, error)) {
            return false;
        }
        len = GUINT32_FROM_LE(le);
        if (len == 0) {
            return true;
        }
        if (len > VIREO_MIGRATE_MAX_CHUNK || len > max_len - stream->len) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        len > VIREO_MIGRATE_MAX_CHUNK
                            ? "The peer sent a chunk larger than the protocol allows"
                            : "The peer sent more state than this machine can hold");
            return false;
        }
        g_byte_array_set_size(stream, stream->len + len);
        if (!recv_all(fd, stream->data + stream->len - len, len, error)) {
            return false;
        }
    }
}

GBytes *vireo_migrate_recv_machine(int fd, VireoRamImage *image, gsize max_len, GError **error)
{
    g_autoptr(GByteArray) stream = g_byte_array_new();
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
        guint8 kind;

        if (!recv_all(fd, &kind, 1, error)) {
            return NULL;
        }
        if (kind != VIREO_MIGRATE_STREAM_RAM && kind != VIREO_MIGRATE_STREAM_STATE) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The peer sent a message that is not the protocol's");
            return NULL;
        }
        if (!recv_chunks(fd, stream, max_len, error)) {
            return NULL;
        }
        /* RAM goes into the image as it comes; the final stream's RAM too,
         * and the rest of it is checked and kept for the machine. */
        if (!vireo_ram_image_apply(image, stream->data, stream->len,
                                   kind == VIREO_MIGRATE_STREAM_RAM, error)) {
            return NULL;
        }
        if (kind == VIREO_MIGRATE_STREAM_STATE) {
            return g_byte_array_free_to_bytes(g_steal_pointer(&stream));
        }
    }
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
    case VIREO_MIGRATION_CANCELLING: return "cancelling";
    case VIREO_MIGRATION_CANCELLED: return "cancelled";
    }
    return "none";
}

struct VireoMigration {
    VireoBoard *board;
    VireoMigrationNotify notify;
    void *opaque;
    GThread *thread;
    char *uri;
    atomic_bool cancel;
    /* Past this point the destination may hold the disks: no cancelling. */
    atomic_bool committed;
    atomic_int fd; /* the connection, for a cancel to cut; -1 */

    GMutex lock; /* the figures below */
    VireoMigrationStatus status;
    guint64 downtime_limit_ms;
    gint64 start_us, setup_us, pause_us, end_us;
    guint64 transferred;
    guint64 pages, zero_pages;    /* RAM pages sent, and zero ones left out */
    guint64 remaining;            /* bytes of RAM dirty at the last look */
    guint64 dirty_rate;           /* pages written per second, last round */
    guint64 pages_per_second;     /* pages sent per second, last round */
    guint64 expected_downtime_ms; /* sending what is dirty now */
    guint64 sync_count;           /* looks at the dirty log */
    guint64 rounds;               /* rounds of pre-copy */
    char *error;
};

/* The stream in chunks: the writer's output gathered up to a chunk. */
typedef struct {
    VireoMigration *m;
    int fd;
    GByteArray *buf;
} Out;

static bool check_cancel(VireoMigration *m, GError **error)
{
    if (atomic_load(&m->cancel) && !atomic_load(&m->committed)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "The migration was cancelled");
        return false;
    }
    return true;
}

static bool out_flush(Out *o, GError **error)
{
    if (o->buf->len == 0) {
        return true;
    }
    if (!check_cancel(o->m, error) ||
        !vireo_migrate_send_chunk(o->fd, o->buf->data, o->buf->len, error)) {
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
    if (status == VIREO_MIGRATION_ACTIVE && m->status == VIREO_MIGRATION_CANCELLING) {
        status = VIREO_MIGRATION_CANCELLING;
    }
    m->status = status;
    if (status == VIREO_MIGRATION_ACTIVE || status == VIREO_MIGRATION_CANCELLING) {
        m->setup_us = g_get_monotonic_time();
    }
    if (status == VIREO_MIGRATION_COMPLETED || status == VIREO_MIGRATION_FAILED ||
        status == VIREO_MIGRATION_CANCELLED) {
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

/* One stream: its kind, what `write` puts into it, its end. */
typedef bool (*WriteStream)(VireoMigration *m, VireoSnapWriter *w, const uint64_t *dirty,
                            VireoRamSaveStats *stats, GError **error);

static bool write_ram(VireoMigration *m, VireoSnapWriter *w, const uint64_t *dirty,
                      VireoRamSaveStats *stats, GError **error)
{
    return vireo_machine_save_ram(vireo_board_get_machine(m->board), w, dirty, stats, error);
}

static bool write_state(VireoMigration *m, VireoSnapWriter *w, const uint64_t *dirty,
                        VireoRamSaveStats *stats, GError **error)
{
    VireoMachine *machine = vireo_board_get_machine(m->board);

    (void)stats;
    return dirty != NULL ? vireo_machine_save_state_dirty(machine, w, dirty, error)
                         : vireo_machine_save_state(machine, w, error);
}

static bool send_stream(VireoMigration *m, int fd, VireoMigrateStream kind, WriteStream write,
                        const uint64_t *dirty, GError **error)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Out out = { m, fd, buf };
    g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(out_write, &out);
    VireoRamSaveStats stats = { 0 };

    if (!vireo_migrate_send_kind(fd, kind, error) || !write(m, w, dirty, &stats, error) ||
        !out_flush(&out, error) || !vireo_migrate_send_chunk(fd, NULL, 0, error)) {
        return false;
    }
    g_mutex_lock(&m->lock);
    m->pages += stats.pages;
    m->zero_pages += stats.zero_pages;
    g_mutex_unlock(&m->lock);
    return true;
}

static bool flush_disks(VireoMigration *m, GError **error)
{
    VireoBlock *disk;

    for (unsigned i = 0; (disk = vireo_board_get_disk(m->board, i)) != NULL; i++) {
        int rc = vireo_block_flush(disk);
        if (rc < 0) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot flush the disk “%s”: %s",
                        vireo_block_get_name(disk), g_strerror(-rc));
            return false;
        }
    }
    return true;
}

static guint64 popcount_words(const uint64_t *words, gsize n)
{
    guint64 count = 0;

    for (gsize i = 0; i < n; i++) {
        count += (guint64)__builtin_popcountll(words[i]);
    }
    return count;
}

/*
 * Pre-copy: every page once, then rounds of the pages written meanwhile,
 * until sending what is dirty would take no longer than the downtime limit
 * at the rate the last round went (or MAX_ROUNDS passed). `dirty` is left
 * holding the pages still to send.
 */
static bool precopy(VireoMigration *m, int fd, uint64_t *dirty, GError **error)
{
    VireoBus *bus = vireo_machine_bus(vireo_board_get_machine(m->board));
    gsize words = vireo_bus_dirty_words(bus);
    guint64 to_send = 0;

    for (guint round = 0;; round++) {
        gint64 started = g_get_monotonic_time(), now;
        guint64 pages_before, n_dirty, limit_ms, pps, expected_ms;
        double seconds;

        g_mutex_lock(&m->lock);
        pages_before = m->pages;
        g_mutex_unlock(&m->lock);
        if (!send_stream(m, fd, VIREO_MIGRATE_STREAM_RAM, write_ram, round == 0 ? NULL : dirty,
                         error)) {
            return false;
        }
        memset(dirty, 0, words * sizeof *dirty);
        n_dirty = vireo_bus_dirty_log_sync(bus, dirty);
        now = g_get_monotonic_time();
        seconds = MAX((double)(now - started) / G_USEC_PER_SEC, 1e-6);

        g_mutex_lock(&m->lock);
        /* The rate of pages that had to be sent (compressed, written out),
         * which is what the rest will cost. */
        to_send = m->pages - pages_before;
        pps = to_send > 0 ? (guint64)((double)to_send / seconds) : m->pages_per_second;
        m->pages_per_second = pps;
        m->dirty_rate = (guint64)((double)n_dirty / seconds);
        m->remaining = n_dirty * VIREO_PAGE_SIZE;
        m->sync_count++;
        m->rounds = round + 1;
        expected_ms = pps > 0 ? n_dirty * 1000 / pps : 0;
        m->expected_downtime_ms = expected_ms;
        limit_ms = m->downtime_limit_ms;
        g_mutex_unlock(&m->lock);

        if (!check_cancel(m, error)) {
            return false;
        }
        if (n_dirty == 0 || (pps > 0 && expected_ms <= limit_ms) || round + 1 >= MAX_ROUNDS) {
            return true;
        }
    }
}

/* Sends the machine: pre-copy where the machine runs and the host can
 * track its writes, then the rest with the machine paused; the disks are
 * flushed first and their locks given up once the destination has the
 * whole stream. `*paused`: whether this paused the machine; `*unlocked`:
 * how many disks gave their locks up. */
static bool send_machine(VireoMigration *m, int fd, bool *paused, unsigned *unlocked,
                         GError **error)
{
    VireoMachine *machine = vireo_board_get_machine(m->board);
    VireoBus *bus = vireo_machine_bus(machine);
    g_autofree uint64_t *dirty = NULL;
    bool running = vireo_machine_state(machine) == VIREO_MACHINE_RUNNING;
    VireoBlock *disk;

    if (!vireo_migrate_send_header(fd, error)) {
        return false;
    }
    if (running && vireo_bus_dirty_log_start(bus, NULL)) {
        dirty = g_new0(uint64_t, vireo_bus_dirty_words(bus));
        /* The disks flushed while the guest runs leave less to the flush
         * in the downtime. */
        if (!precopy(m, fd, dirty, error) || !flush_disks(m, error)) {
            return false;
        }
    }
    g_mutex_lock(&m->lock);
    m->pause_us = g_get_monotonic_time();
    g_mutex_unlock(&m->lock);
    /* Paused here unless it was paused already (a `stop` meanwhile). */
    if (vireo_machine_state(machine) == VIREO_MACHINE_RUNNING) {
        vireo_machine_pause(machine);
        *paused = true;
    }
    if (dirty != NULL) {
        /* With every vCPU and device stopped: the pages written since the
         * last look, added to those not sent yet. */
        vireo_bus_dirty_log_sync(bus, dirty);
        g_mutex_lock(&m->lock);
        m->sync_count++;
        m->remaining = popcount_words(dirty, vireo_bus_dirty_words(bus)) * VIREO_PAGE_SIZE;
        g_mutex_unlock(&m->lock);
    }
    if (!flush_disks(m, error) ||
        !send_stream(m, fd, VIREO_MIGRATE_STREAM_STATE, write_state, dirty, error) ||
        !vireo_migrate_recv_reply(fd, VIREO_MIGRATE_REPLY_RECEIVED, error)) {
        return false;
    }
    if (dirty != NULL) {
        g_mutex_lock(&m->lock);
        m->pages += popcount_words(dirty, vireo_bus_dirty_words(bus));
        m->remaining = 0;
        g_mutex_unlock(&m->lock);
    }
    /* From here on the destination may take the disks. */
    atomic_store(&m->committed, true);
    for (; (disk = vireo_board_get_disk(m->board, *unlocked)) != NULL; (*unlocked)++) {
        if (!vireo_block_unlock(disk, error)) {
            return false;
        }
    }
    return vireo_migrate_send_unlocked(fd, error) &&
           vireo_migrate_recv_reply(fd, VIREO_MIGRATE_REPLY_LOADED, error);
}

/* A destination that refused the machine while this side was still
 * sending closes the connection: its reason, when it sent one, says more
 * than the broken pipe. */
static void take_refusal(int fd, GError **error)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    GError *reply_error = NULL;

    if (*error == NULL || poll(&pfd, 1, 1000) != 1) {
        return;
    }
    if (!vireo_migrate_recv_reply(fd, VIREO_MIGRATE_REPLY_RECEIVED, &reply_error) &&
        g_str_has_prefix(reply_error->message, "The destination refused")) {
        g_clear_error(error);
        g_propagate_error(error, reply_error);
        return;
    }
    g_clear_error(&reply_error);
}

static gpointer migration_thread(gpointer data)
{
    VireoMigration *m = data;
    VireoMachine *machine = vireo_board_get_machine(m->board);
    VireoBus *bus = vireo_machine_bus(machine);
    g_autoptr(GError) error = NULL;
    unsigned unlocked = 0;
    bool paused = false, ok = false;
    VireoMigrationStatus status;
    int fd;

    fd = vireo_migrate_connect(m->uri, &error);
    atomic_store(&m->fd, fd);
    if (fd >= 0 && check_cancel(m, &error)) {
        set_status(m, VIREO_MIGRATION_ACTIVE, NULL);
        ok = send_machine(m, fd, &paused, &unlocked, &error);
        vireo_bus_dirty_log_stop(bus);
        if (!ok && !atomic_load(&m->cancel)) {
            take_refusal(fd, &error);
        }
    }
    if (fd >= 0) {
        g_mutex_lock(&m->lock);
        atomic_store(&m->fd, -1);
        g_mutex_unlock(&m->lock);
        close(fd);
    }
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
        if (paused && disks) {
            vireo_machine_resume(machine);
        }
    }
    status = ok                                                       ? VIREO_MIGRATION_COMPLETED
             : atomic_load(&m->cancel) && !atomic_load(&m->committed) ? VIREO_MIGRATION_CANCELLED
                                                                      : VIREO_MIGRATION_FAILED;
    set_status(m, status, ok ? NULL : error->message);
    return NULL;
}

VireoMigration *vireo_migration_new(VireoBoard *board, VireoMigrationNotify notify, void *opaque)
{
    VireoMigration *m = g_new0(VireoMigration, 1);

    m->board = board;
    m->notify = notify;
    m->opaque = opaque;
    m->downtime_limit_ms = 300; /* QEMU's default */
    atomic_init(&m->fd, -1);
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

static bool under_way(VireoMigrationStatus status)
{
    return status == VIREO_MIGRATION_SETUP || status == VIREO_MIGRATION_ACTIVE ||
           status == VIREO_MIGRATION_CANCELLING;
}

bool vireo_migration_start(VireoMigration *m, const char *uri, GError **error)
{
    VireoMigrationStatus status;

    if (!vireo_migrate_parse_uri(uri, true, error)) {
        return false;
    }
    g_mutex_lock(&m->lock);
    status = m->status;
    if (under_way(status) || status == VIREO_MIGRATION_COMPLETED) {
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
    m->transferred = m->pages = m->zero_pages = m->remaining = 0;
    m->dirty_rate = m->pages_per_second = m->expected_downtime_ms = 0;
    m->sync_count = m->rounds = 0;
    g_clear_pointer(&m->error, g_free);
    g_mutex_unlock(&m->lock);
    if (m->thread != NULL) {
        g_thread_join(m->thread);
    }
    atomic_store(&m->cancel, false);
    atomic_store(&m->committed, false);
    g_free(m->uri);
    m->uri = g_strdup(uri);
    if (m->notify != NULL) {
        m->notify(m->opaque, VIREO_MIGRATION_SETUP);
    }
    m->thread = g_thread_new("migration", migration_thread, m);
    return true;
}

void vireo_migration_cancel(VireoMigration *m)
{
    bool notify = false;

    g_mutex_lock(&m->lock);
    if (under_way(m->status) && m->status != VIREO_MIGRATION_CANCELLING &&
        !atomic_load(&m->committed)) {
        int fd = atomic_load(&m->fd);
        atomic_store(&m->cancel, true);
        m->status = VIREO_MIGRATION_CANCELLING;
        notify = true;
        /* A send or a receive blocked on a silent peer returns now. */
        if (fd >= 0) {
            shutdown(fd, SHUT_RDWR);
        }
    }
    g_mutex_unlock(&m->lock);
    if (notify && m->notify != NULL) {
        m->notify(m->opaque, VIREO_MIGRATION_CANCELLING);
    }
}

void vireo_migration_set_downtime_limit(VireoMigration *m, guint64 ms)
{
    g_mutex_lock(&m->lock);
    m->downtime_limit_ms = ms;
    g_mutex_unlock(&m->lock);
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
    if (m->status == VIREO_MIGRATION_ACTIVE && m->sync_count > 0) {
        vireo_json_object_set(r, "expected-downtime",
                              vireo_json_new_int((gint64)m->expected_downtime_ms));
    }
    if (m->status == VIREO_MIGRATION_FAILED && m->error != NULL) {
        vireo_json_object_set(r, "error-desc", vireo_json_new_string(m->error));
    }
    if (m->setup_us != 0) {
        double seconds = (double)(end - m->setup_us) / G_USEC_PER_SEC;
        guint64 remaining = m->status == VIREO_MIGRATION_COMPLETED ? 0
                            : m->sync_count > 0                    ? m->remaining
                                                                   : ram_size;
        ram = vireo_json_new_object();
        vireo_json_object_set(ram, "transferred", vireo_json_new_int((gint64)m->transferred));
        vireo_json_object_set(ram, "remaining", vireo_json_new_int((gint64)remaining));
        vireo_json_object_set(ram, "total", vireo_json_new_int((gint64)ram_size));
        vireo_json_object_set(ram, "duplicate", vireo_json_new_int((gint64)m->zero_pages));
        vireo_json_object_set(ram, "skipped", vireo_json_new_int(0));
        vireo_json_object_set(ram, "normal", vireo_json_new_int((gint64)m->pages));
        vireo_json_object_set(ram, "normal-bytes",
                              vireo_json_new_int((gint64)(m->pages * VIREO_PAGE_SIZE)));
        vireo_json_object_set(ram, "dirty-pages-rate", vireo_json_new_int((gint64)m->dirty_rate));
        vireo_json_object_set(
            ram, "mbps",
            vireo_json_new_double(seconds > 0 ? (double)m->transferred * 8 / seconds / 1e6 : 0.0));
        vireo_json_object_set(ram, "dirty-sync-count", vireo_json_new_int((gint64)m->sync_count));
        vireo_json_object_set(ram, "postcopy-requests", vireo_json_new_int(0));
        vireo_json_object_set(ram, "page-size", vireo_json_new_int(VIREO_PAGE_SIZE));
        vireo_json_object_set(ram, "multifd-bytes", vireo_json_new_int(0));
        vireo_json_object_set(ram, "pages-per-second",
                              vireo_json_new_int((gint64)m->pages_per_second));
        vireo_json_object_set(r, "ram", ram);
    }
    g_mutex_unlock(&m->lock);
    return r;
}
