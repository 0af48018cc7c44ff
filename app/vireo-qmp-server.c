/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The QMP monitor's socket server. One thread polls the listening socket, a
 * wake pipe (written when an event is queued and when the server ends) and
 * its clients. Each client has a session and an output buffer; everything
 * is non-blocking, so no client can stall the thread or the machine.
 */
#include "vireo-qmp-server.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/listen.h"

/* Input is read while less output than this waits, in pieces of READ_SIZE
 * bytes, so that one piece of requests cannot make much more output. */
#define OUTPUT_HIGH (64 * 1024)
#define READ_SIZE   4096
/* How long the last output may take to leave when the server ends. */
#define FINAL_FLUSH_US G_USEC_PER_SEC

typedef struct {
    int fd;
    VireoQmpSession *session;
    GByteArray *out;
    bool eof;    /* the client sends no more: it goes once its output has left */
    bool closed; /* to be removed */
} Client;

struct VireoQmpServer {
    VireoQmp *qmp;
    int listen_fd;
    char *address;
    char *unix_path;
    bool wait;
    int wake[2];
    atomic_bool quit;
    GThread *thread;
    GPtrArray *clients; /* Client, the thread's */

    GMutex lock;
    GCond cond;
    bool connected; /* a client has connected */
};

/* ---- the address ---- */

bool vireo_qmp_server_parse(const char *spec, char **address, bool *wait, GError **error)
{
    g_autoptr(GString) where = g_string_new(NULL);
    const char *p = spec;
    bool server = false, wait_set = false, wait_value = false;

    if (!g_str_has_prefix(spec, "unix:") && !g_str_has_prefix(spec, "tcp:")) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "“%s” is not unix:PATH or tcp:[HOST]:PORT", spec);
        return false;
    }
    /* The address up to the first lone comma; ",," is a comma. */
    while (*p != '\0' && !(p[0] == ',' && p[1] != ',')) {
        g_string_append_c(where, *p);
        p += p[0] == ',' ? 2 : 1;
    }
    if (strcmp(where->str, "unix:") == 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "“%s” names no socket", spec);
        return false;
    }
    while (*p == ',') {
        const char *start = ++p;
        g_autofree char *option = NULL;

        while (*p != '\0' && *p != ',') {
            p++;
        }
        option = g_strndup(start, (gsize)(p - start));
        if (strcmp(option, "server") == 0 || strcmp(option, "server=on") == 0) {
            server = true;
        } else if (strcmp(option, "server=off") == 0) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "“%s”: the monitor listens for clients and cannot connect to one "
                        "(server=off)",
                        spec);
            return false;
        } else if (strcmp(option, "wait") == 0 || strcmp(option, "wait=on") == 0) {
            wait_set = wait_value = true;
        } else if (strcmp(option, "wait=off") == 0 || strcmp(option, "nowait") == 0) {
            wait_set = true;
            wait_value = false;
        } else {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "“%s”: unknown option “%s” (server, wait=on, wait=off or nowait; "
                        "write a comma in a path as “,,”)",
                        spec, option);
            return false;
        }
    }
    if (wait != NULL) {
        *wait = wait_set ? wait_value : server;
    }
    if (address != NULL) {
        *address = g_string_free(g_steal_pointer(&where), FALSE);
    }
    return true;
}

/* ---- clients ---- */

static void client_write(void *opaque, const char *data, size_t len)
{
    Client *c = opaque;

    if (!c->closed) {
        g_byte_array_append(c->out, (const guint8 *)data, (guint)len);
    }
}

static void client_free(Client *c)
{
    vireo_qmp_session_free(c->session);
    close(c->fd);
    g_byte_array_free(c->out, TRUE);
    g_free(c);
}

/* Sends what it can of the client's output without waiting. */
static void client_flush(Client *c)
{
    while (c->out->len > 0 && !c->closed) {
        ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        if (n <= 0) {
            c->closed = true;
            break;
        }
        g_byte_array_remove_range(c->out, 0, (guint)n);
    }
    if (c->out->len > VIREO_QMP_MAX_OUTPUT) {
        /* It does not read what it is sent. */
        c->closed = true;
    }
    if (c->eof && c->out->len == 0) {
        c->closed = true;
    }
}

static void client_read(Client *c)
{
    guint8 buf[READ_SIZE];
    ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);

    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
        return;
    }
    if (n == 0) {
        c->eof = true;
        return;
    }
    if (n < 0) {
        c->closed = true;
        return;
    }
    vireo_qmp_session_feed(c->session, buf, (size_t)n);
}

static void accept_client(VireoQmpServer *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    Client *c;

    if (fd < 0) {
        return;
    }
    if (s->clients->len >= VIREO_QMP_MAX_CLIENTS) {
        close(fd); /* the client sees the connection closed at once */
        return;
    }
    c = g_new0(Client, 1);
    c->fd = fd;
    c->out = g_byte_array_new();
    g_ptr_array_add(s->clients, c);
    c->session = vireo_qmp_session_new(s->qmp, client_write, c);
    client_flush(c);
    g_mutex_lock(&s->lock);
    s->connected = true;
    g_cond_broadcast(&s->cond);
    g_mutex_unlock(&s->lock);
}

static void drop_closed(VireoQmpServer *s)
{
    for (guint i = s->clients->len; i > 0; i--) {
        Client *c = g_ptr_array_index(s->clients, i - 1);
        if (c->closed) {
            g_ptr_array_remove_index(s->clients, i - 1);
            client_free(c);
        }
    }
}

static void drain_wake(VireoQmpServer *s)
{
    guint8 buf[64];

    while (read(s->wake[0], buf, sizeof buf) > 0) {}
}

static void wake_thread(void *opaque)
{
    VireoQmpServer *s = opaque;
    guint8 b = 1;
    G_GNUC_UNUSED ssize_t n = write(s->wake[1], &b, 1);
}

/* When the server ends: the output still queued, for a second at most. */
static void final_flush(VireoQmpServer *s)
{
    gint64 end = g_get_monotonic_time() + FINAL_FLUSH_US;

    vireo_qmp_flush_events(s->qmp);
    for (;;) {
        g_autofree struct pollfd *fds = g_new0(struct pollfd, s->clients->len + 1);
        nfds_t n = 0;
        gint64 left;

        for (guint i = 0; i < s->clients->len; i++) {
            Client *c = g_ptr_array_index(s->clients, i);
            client_flush(c);
            if (!c->closed && c->out->len > 0) {
                fds[n++] = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
            }
        }
        left = end - g_get_monotonic_time();
        if (n == 0 || left <= 0) {
            return;
        }
        if (poll(fds, n, (int)MAX(1, left / 1000)) < 0 && errno != EINTR) {
            return;
        }
    }
}

static gpointer server_thread(gpointer data)
{
    VireoQmpServer *s = data;

    while (!atomic_load(&s->quit)) {
        guint n_clients = s->clients->len;
        g_autofree struct pollfd *fds = g_new0(struct pollfd, n_clients + 2);

        fds[0] = (struct pollfd){ .fd = s->wake[0], .events = POLLIN };
        fds[1] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
        for (guint i = 0; i < n_clients; i++) {
            Client *c = g_ptr_array_index(s->clients, i);
            short events = 0;

            if (c->out->len < OUTPUT_HIGH && !c->eof && !vireo_qmp_session_quitting(c->session)) {
                events |= POLLIN;
            }
            if (c->out->len > 0) {
                events |= POLLOUT;
            }
            fds[i + 2] = (struct pollfd){ .fd = c->fd, .events = events };
        }
        if (poll(fds, n_clients + 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (atomic_load(&s->quit)) {
            break;
        }
        if (fds[0].revents != 0) {
            drain_wake(s);
            vireo_qmp_flush_events(s->qmp);
        }
        for (guint i = 0; i < n_clients; i++) {
            Client *c = g_ptr_array_index(s->clients, i);
            short r = fds[i + 2].revents;

            if (r & POLLIN) {
                client_read(c);
            } else if (r & (POLLHUP | POLLERR | POLLNVAL)) {
                c->closed = true; /* gone: what it was sent cannot reach it */
            }
        }
        if (fds[1].revents & POLLIN) {
            accept_client(s);
        }
        /* Replies and events went into the buffers of any client. */
        for (guint i = 0; i < s->clients->len; i++) {
            client_flush(g_ptr_array_index(s->clients, i));
        }
        drop_closed(s);
    }
    final_flush(s);
    return NULL;
}

/* ---- the server ---- */

VireoQmpServer *vireo_qmp_server_new(VireoQmp *qmp, const char *spec, GError **error)
{
    g_autofree char *where = NULL;
    VireoQmpServer *s;
    bool wait;
    char *address, *unix_path;
    int fd;

    if (!vireo_qmp_server_parse(spec, &where, &wait, error)) {
        return NULL;
    }
    fd = vireo_listen(where, VIREO_QMP_MAX_CLIENTS, &address, &unix_path, error);
    if (fd < 0) {
        return NULL;
    }
    s = g_new0(VireoQmpServer, 1);
    s->qmp = qmp;
    s->listen_fd = fd;
    s->address = address;
    s->unix_path = unix_path;
    s->wait = wait;
    s->clients = g_ptr_array_new();
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    atomic_init(&s->quit, false);
    if (!g_unix_open_pipe(s->wake, FD_CLOEXEC, NULL)) {
        g_error("cannot create a pipe: %s", g_strerror(errno));
    }
    for (unsigned i = 0; i < 2; i++) {
        fcntl(s->wake[i], F_SETFL, fcntl(s->wake[i], F_GETFL) | O_NONBLOCK);
    }
    vireo_qmp_set_event_notify(qmp, wake_thread, s);
    s->thread = g_thread_new("qmp", server_thread, s);
    return s;
}

const char *vireo_qmp_server_address(VireoQmpServer *server)
{
    return server->address;
}

bool vireo_qmp_server_get_wait(VireoQmpServer *server)
{
    return server->wait;
}

void vireo_qmp_server_wait_for_client(VireoQmpServer *server)
{
    g_mutex_lock(&server->lock);
    while (!server->connected) {
        g_cond_wait(&server->cond, &server->lock);
    }
    g_mutex_unlock(&server->lock);
}

void vireo_qmp_server_free(VireoQmpServer *server)
{
    if (server == NULL) {
        return;
    }
    atomic_store(&server->quit, true);
    wake_thread(server);
    g_thread_join(server->thread);
    vireo_qmp_set_event_notify(server->qmp, NULL, NULL);
    for (guint i = 0; i < server->clients->len; i++) {
        client_free(g_ptr_array_index(server->clients, i));
    }
    g_ptr_array_free(server->clients, TRUE);
    close(server->listen_fd);
    if (server->unix_path != NULL) {
        unlink(server->unix_path);
    }
    close(server->wake[0]);
    close(server->wake[1]);
    g_mutex_clear(&server->lock);
    g_cond_clear(&server->cond);
    g_free(server->address);
    g_free(server->unix_path);
    g_free(server);
}
