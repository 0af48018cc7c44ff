/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/listen.h"
#include "engine/error.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

static int listen_tcp(const char *hostport, int backlog, char **address, GError **error)
{
    const char *colon = strrchr(hostport, ':');
    g_autofree char *host = NULL;
    struct sockaddr_storage ss = { 0 };
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    socklen_t slen;
    char *end;
    unsigned long port;
    int fd, one = 1;

    if (colon == NULL) {
        host = g_strdup("");
        colon = hostport - 1;
    } else {
        host = g_strndup(hostport, (gsize)(colon - hostport));
    }
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (!g_ascii_isdigit(colon[1]) || *end != '\0' || errno != 0 || port > 65535) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "“%s” is not a TCP port", colon + 1);
        return -1;
    }
    if (host[0] == '[' && g_str_has_suffix(host, "]")) {
        char *inner = g_strndup(host + 1, strlen(host) - 2);
        g_free(host);
        host = inner;
    }
    if (host[0] == '\0' || strcmp(host, "localhost") == 0) {
        g_free(host);
        host = g_strdup("127.0.0.1"); /* loopback unless told otherwise */
    }
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        slen = sizeof *in4;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        slen = sizeof *in6;
    } else {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "“%s” is not an IP address", host);
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "socket: %s", g_strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, slen) != 0 || listen(fd, backlog) != 0) {
        int err = errno;
        close(fd);
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "cannot listen on %s port %lu: %s", host,
                    port, g_strerror(err));
        return -1;
    }
    slen = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &slen);
    port = ntohs(ss.ss_family == AF_INET ? in4->sin_port : in6->sin6_port);
    *address = ss.ss_family == AF_INET6 ? g_strdup_printf("[%s]:%lu", host, port)
                                        : g_strdup_printf("%s:%lu", host, port);
    return fd;
}

static int listen_unix(const char *path, int backlog, GError **error)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd;

    if (path[0] == '\0' || strlen(path) >= sizeof sun.sun_path) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "“%s” is not a socket path", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "socket: %s", g_strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 || listen(fd, backlog) != 0) {
        int err = errno;
        close(fd);
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "cannot listen on %s: %s", path,
                    g_strerror(err));
        return -1;
    }
    return fd;
}

int vireo_listen(const char *spec, int backlog, char **address, char **unix_path, GError **error)
{
    int fd;

    *address = NULL;
    if (unix_path != NULL) {
        *unix_path = NULL;
    }
    if (g_str_has_prefix(spec, "tcp:")) {
        return listen_tcp(spec + 4, backlog, address, error);
    }
    if (!g_str_has_prefix(spec, "unix:")) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "“%s” is not tcp:HOST:PORT or unix:PATH", spec);
        return -1;
    }
    fd = listen_unix(spec + 5, backlog, error);
    if (fd >= 0) {
        *address = g_strdup(spec + 5);
        if (unix_path != NULL) {
            *unix_path = g_strdup(spec + 5);
        }
    }
    return fd;
}
