/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Live migration's addresses and wire protocol (app/vireo-migrate.c,
 * docs/MIGRATION.md), on socket pairs: the source's side against the
 * destination's, and each against a hostile peer. */
#include "vireo-migrate.h"

#include <string.h>
#include <sys/socket.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/snap.h"

static void test_uri(void)
{
    static const char *const good_connect[] = {
        "tcp:127.0.0.1:4444",  "tcp:localhost:1",  "tcp:[::1]:65535",
        "tcp:host.example:80", "unix:/tmp/x.sock",
    };
    static const char *const bad[] = {
        "",           "tcp:",         "tcp:1.2.3.4",   "tcp:1.2.3.4:0", "tcp:1.2.3.4:65536",
        "tcp:h:12ab", "tcp:::1:4444", "tcp:[::1]4444", "tcp:[::1",      "unix:",
        "fd:3",       "exec:cat",     "tcp:h:-1",      "TCP:h:1",       "tcp:h: 1",
    };

    for (guint i = 0; i < G_N_ELEMENTS(good_connect); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_true(vireo_migrate_parse_uri(good_connect[i], true, &error));
        g_assert_no_error(error);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        if (vireo_migrate_parse_uri(bad[i], false, &error)) {
            g_error("“%s” was taken as an address", bad[i]);
        }
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    }
    /* A destination may listen on every address; a source must name one. */
    g_assert_true(vireo_migrate_parse_uri("tcp::4444", false, NULL));
    g_assert_false(vireo_migrate_parse_uri("tcp::4444", true, NULL));
    /* Longer than a socket's path. */
    {
        g_autofree char *path = g_strnfill(200, 'a');
        g_autofree char *uri = g_strconcat("unix:/", path, NULL);
        g_assert_false(vireo_migrate_parse_uri(uri, true, NULL));
    }
}

static bool collect(void *opaque, const void *data, gsize len, GError **error)
{
    g_byte_array_append(opaque, data, (guint)len);
    return true;
}

/* A well-formed machine-state stream (of no machine in particular). */
static GByteArray *sample_stream(void)
{
    GByteArray *bytes = g_byte_array_new();
    g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(collect, bytes);

    vireo_snap_begin_section(w, "test", 1, 1);
    for (unsigned i = 0; i < 100; i++) {
        vireo_snap_put_u64(w, i * 0x0101010101010101ull);
    }
    g_assert_true(vireo_snap_end_section(w, NULL));
    g_assert_true(vireo_snap_writer_finish(w, NULL));
    return bytes;
}

static void pair(int fds[2])
{
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
}

/* Sends `stream` as the source's final one, in chunks of `chunk` bytes. */
static void send_stream(int fd, const GByteArray *stream, gsize chunk)
{
    g_assert_true(vireo_migrate_send_header(fd, NULL));
    g_assert_true(vireo_migrate_send_kind(fd, VIREO_MIGRATE_STREAM_STATE, NULL));
    for (gsize off = 0; off < stream->len; off += chunk) {
        g_assert_true(
            vireo_migrate_send_chunk(fd, stream->data + off, MIN(chunk, stream->len - off), NULL));
    }
    g_assert_true(vireo_migrate_send_chunk(fd, NULL, 0, NULL));
}

static void test_handshake(void)
{
    g_autoptr(GByteArray) stream = sample_stream();
    g_autoptr(GBytes) got = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoRamImage) image = NULL;
    int fds[2];

    pair(fds);
    send_stream(fds[0], stream, 100);
    image = vireo_ram_image_new(1 << 20, &error);
    got = vireo_migrate_recv_machine(fds[1], image, 1 << 20, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(g_bytes_get_data(got, NULL), g_bytes_get_size(got), stream->data, stream->len);
    /* Received; the source gives up its disks; loaded. */
    g_assert_true(vireo_migrate_send_reply(fds[1], VIREO_MIGRATE_REPLY_RECEIVED, NULL, NULL));
    g_assert_true(vireo_migrate_recv_reply(fds[0], VIREO_MIGRATE_REPLY_RECEIVED, &error));
    g_assert_true(vireo_migrate_send_unlocked(fds[0], NULL));
    g_assert_true(vireo_migrate_recv_unlocked(fds[1], &error));
    g_assert_true(vireo_migrate_send_reply(fds[1], VIREO_MIGRATE_REPLY_LOADED, NULL, NULL));
    g_assert_true(vireo_migrate_recv_reply(fds[0], VIREO_MIGRATE_REPLY_LOADED, &error));
    g_assert_no_error(error);
    /* A refusal carries its reason, only what prints of it. */
    g_assert_true(
        vireo_migrate_send_reply(fds[1], VIREO_MIGRATE_REPLY_ERROR, "bad\n\x1b[31mshape", NULL));
    g_assert_false(vireo_migrate_recv_reply(fds[0], VIREO_MIGRATE_REPLY_LOADED, &error));
    g_assert_cmpstr(error->message, ==, "The destination refused the machine: bad??[31mshape");
    close(fds[0]);
    close(fds[1]);
}

/* The destination given `bytes` then the end of the connection. */
static void recv_fails(const void *bytes, gsize len, gsize max_len, const char *part)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoRamImage) image = vireo_ram_image_new(1 << 20, NULL);
    GBytes *got;
    int fds[2];

    pair(fds);
    g_assert_cmpint(write(fds[0], bytes, len), ==, (gssize)len);
    close(fds[0]);
    got = vireo_migrate_recv_machine(fds[1], image, max_len, &error);
    close(fds[1]);
    g_assert_null(got);
    g_assert_nonnull(error);
    if (strstr(error->message, part) == NULL) {
        g_error("“%s” does not say “%s”", error->message, part);
    }
}

static void test_hostile_source(void)
{
    g_autoptr(GByteArray) stream = sample_stream();
    g_autoptr(GByteArray) wire = g_byte_array_new();
    guint8 header[13] = "VIREOMIG\x02\0\0\0S";
    guint8 chunk_header[4];
    guint32 le;

    recv_fails("", 0, 1 << 20, "closed the connection");
    recv_fails("GET / HTTP/1.1\r\n\r\n", 18, 1 << 20, "does not speak");
    header[8] = 1;
    recv_fails(header, sizeof header, 1 << 20, "version 1");
    header[8] = 2;
    /* A stream of a kind the protocol does not have. */
    header[12] = 'X';
    recv_fails(header, sizeof header, 1 << 20, "not the protocol's");
    header[12] = 'S';
    /* A chunk over the protocol's size, or over what the machine holds. */
    g_byte_array_append(wire, header, sizeof header);
    le = GUINT32_TO_LE(VIREO_MIGRATE_MAX_CHUNK + 1);
    memcpy(chunk_header, &le, 4);
    g_byte_array_append(wire, chunk_header, 4);
    recv_fails(wire->data, wire->len, G_MAXSIZE, "larger than the protocol allows");
    g_byte_array_set_size(wire, sizeof header);
    le = GUINT32_TO_LE(stream->len);
    memcpy(chunk_header, &le, 4);
    g_byte_array_append(wire, chunk_header, 4);
    g_byte_array_append(wire, stream->data, stream->len);
    recv_fails(wire->data, wire->len, stream->len - 1, "more state than this machine can hold");
    /* Cut before the end chunk, and in a chunk. */
    recv_fails(wire->data, wire->len, 1 << 20, "closed the connection");
    recv_fails(wire->data, wire->len - 10, 1 << 20, "closed the connection");
    /* A round of RAM holding something else. */
    wire->data[12] = 'P';
    g_byte_array_append(wire, (const guint8 *)"\0\0\0\0", 4);
    recv_fails(wire->data, wire->len, 1 << 20, "which is not RAM");
    wire->data[12] = 'S';
    g_byte_array_set_size(wire, wire->len - 4);
    /* Framed right, but the stream inside is corrupt. */
    wire->data[wire->len - 20] ^= 0x40;
    g_byte_array_append(wire, (const guint8 *)"\0\0\0\0", 4);
    recv_fails(wire->data, wire->len, 1 << 20, "");
}

static void test_hostile_destination(void)
{
    static const struct {
        const char *bytes;
        gsize len;
        VireoMigrateReply expected;
        const char *part;
    } cases[] = {
        { "", 0, VIREO_MIGRATE_REPLY_RECEIVED, "closed the connection" },
        { "L\0\0\0\0", 5, VIREO_MIGRATE_REPLY_RECEIVED, "not the protocol's" },
        { "R\1\0\0\0x", 6, VIREO_MIGRATE_REPLY_RECEIVED, "not the protocol's" },
        { "E\xff\xff\xff\xff", 5, VIREO_MIGRATE_REPLY_LOADED, "not the protocol's" },
        { "E\x10\0\0\0short", 10, VIREO_MIGRATE_REPLY_LOADED, "closed the connection" },
        { "E\2\0\0\0\xc3\x28", 7, VIREO_MIGRATE_REPLY_LOADED, "refused the machine" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        int fds[2];

        pair(fds);
        g_assert_cmpint(write(fds[1], cases[i].bytes, cases[i].len), ==, (gssize)cases[i].len);
        close(fds[1]);
        g_assert_false(vireo_migrate_recv_reply(fds[0], cases[i].expected, &error));
        close(fds[0]);
        if (strstr(error->message, cases[i].part) == NULL) {
            g_error("case %u: “%s” does not say “%s”", i, error->message, cases[i].part);
        }
    }
    /* Anything but the source's word that it unlocked. */
    {
        g_autoptr(GError) error = NULL;
        int fds[2];
        pair(fds);
        g_assert_cmpint(write(fds[0], "X", 1), ==, 1);
        g_assert_false(vireo_migrate_recv_unlocked(fds[1], &error));
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
        close(fds[0]);
        close(fds[1]);
    }
}

static void test_connect_refused(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vireo-migrate-XXXXXX", NULL);
    g_autofree char *uri = g_strconcat("unix:", dir, "/none", NULL);

    g_assert_cmpint(vireo_migrate_connect(uri, &error), ==, -1);
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_rmdir(dir);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migrate/uri", test_uri);
    g_test_add_func("/migrate/handshake", test_handshake);
    g_test_add_func("/migrate/hostile-source", test_hostile_source);
    g_test_add_func("/migrate/hostile-destination", test_hostile_destination);
    g_test_add_func("/migrate/connect-refused", test_connect_refused);
    return g_test_run();
}
