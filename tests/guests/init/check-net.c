/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The `net` check: configures eth0 statically (libslirp's defaults), fetches
 * a page over HTTP from the gateway and serves one TCP client. */
#include "init.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HTTP_MAX (4 << 20)

static const char *param_or(const char *name, const char *fallback)
{
    const char *v = param(name);
    return v ? v : fallback;
}

static bool set_addr(struct sockaddr *sa, const char *text)
{
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    memset(in, 0, sizeof *in);
    in->sin_family = AF_INET;
    return inet_pton(AF_INET, text, &in->sin_addr) == 1;
}

static bool if_up(struct check *c, int sock, const char *name)
{
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) != 0) {
        check_fail(c, "SIOCGIFFLAGS %s: %s", name, strerror(errno));
        return false;
    }
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(sock, SIOCSIFFLAGS, &ifr) != 0) {
        check_fail(c, "SIOCSIFFLAGS %s: %s", name, strerror(errno));
        return false;
    }
    return true;
}

/*
 * Linux 6.1's virtio core breaks a device's queues at shutdown
 * (virtio_dev_shutdown()). When virtio-net's NAPI poll runs then, its loop
 * that reclaims sent buffers (virtnet_poll_cleantx()) gets none from the
 * broken queue while the device's used index says there are some, and
 * spins for ever, holding the TX queue's lock: the power-off never
 * finishes (about one 4-hart boot in 250, shown by an RCU stall in
 * virtnet_poll and a second hart spinning in sch_direct_xmit). An
 * interface taken down first has its NAPI disabled.
 */
void net_down(void)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct if_nameindex *names = if_nameindex();

    if (sock >= 0 && names != NULL) {
        for (struct if_nameindex *i = names; i->if_name != NULL; i++) {
            struct ifreq ifr = { 0 };
            snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", i->if_name);
            if (strcmp(i->if_name, "lo") == 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) != 0 ||
                !(ifr.ifr_flags & IFF_UP))
                continue;
            ifr.ifr_flags &= ~IFF_UP;
            if (ioctl(sock, SIOCSIFFLAGS, &ifr) != 0)
                say("taking %s down: %s", i->if_name, strerror(errno));
        }
    }
    if (names != NULL)
        if_freenameindex(names);
    if (sock >= 0)
        close(sock);
}

static bool configure(struct check *c, const char *ifname, const char *ip, const char *mask,
                      const char *gw)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        check_fail(c, "socket: %s", strerror(errno));
        return false;
    }
    bool ok = false;
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (!set_addr(&ifr.ifr_addr, ip)) {
        check_fail(c, "bad address %s", ip);
        goto out;
    }
    if (ioctl(sock, SIOCSIFADDR, &ifr) != 0) {
        check_fail(c, "SIOCSIFADDR %s: %s", ip, strerror(errno));
        goto out;
    }
    if (!set_addr(&ifr.ifr_netmask, mask)) {
        check_fail(c, "bad netmask %s", mask);
        goto out;
    }
    if (ioctl(sock, SIOCSIFNETMASK, &ifr) != 0) {
        check_fail(c, "SIOCSIFNETMASK %s: %s", mask, strerror(errno));
        goto out;
    }
    if (!if_up(c, sock, "lo") || !if_up(c, sock, ifname))
        goto out;

    struct rtentry rt = { 0 };
    set_addr(&rt.rt_dst, "0.0.0.0");
    set_addr(&rt.rt_genmask, "0.0.0.0");
    if (!set_addr(&rt.rt_gateway, gw)) {
        check_fail(c, "bad gateway %s", gw);
        goto out;
    }
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = (char *)ifname;
    if (ioctl(sock, SIOCADDRT, &rt) != 0 && errno != EEXIST) {
        check_fail(c, "SIOCADDRT via %s: %s", gw, strerror(errno));
        goto out;
    }

    struct ifreq hw = { 0 };
    snprintf(hw.ifr_name, sizeof hw.ifr_name, "%s", ifname);
    unsigned char mac[6] = { 0 };
    if (ioctl(sock, SIOCGIFHWADDR, &hw) == 0)
        memcpy(mac, hw.ifr_hwaddr.sa_data, sizeof mac);
    check_info(c, "%s %02x:%02x:%02x:%02x:%02x:%02x up, %s netmask %s, gateway %s", ifname, mac[0],
               mac[1], mac[2], mac[3], mac[4], mac[5], ip, mask, gw);
    ok = true;
out:
    close(sock);
    return ok;
}

static void set_timeouts(int fd, int seconds)
{
    struct timeval tv = { .tv_sec = seconds };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connects with a time limit; returns the socket or -1 with errno set. */
static int connect_to(const char *host, int port, int seconds)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int n = poll(&p, 1, seconds * 1000);
    int err = 0;
    socklen_t len = sizeof err;
    if (n <= 0)
        err = n == 0 ? ETIMEDOUT : errno;
    else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    set_timeouts(fd, seconds);
    return fd;
}

static bool send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool http_get(struct check *c, const char *host, int port, const char *path)
{
    int fd = -1;
    /* The link may need a moment after it comes up. */
    for (int attempt = 0; attempt < 3 && fd < 0; attempt++)
        fd = connect_to(host, port, 10);
    if (fd < 0) {
        check_fail(c, "connect %s:%d: %s", host, port, strerror(errno));
        return false;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.0\r\nHost: %s:%d\r\nUser-Agent: vireo-init\r\n\r\n", path, host,
                     port);
    if (!send_all(fd, req, (size_t)n)) {
        check_fail(c, "send the request: %s", strerror(errno));
        close(fd);
        return false;
    }
    char *buf = malloc(HTTP_MAX + 1);
    size_t len = 0;
    int err = 0;
    while (buf && len < HTTP_MAX) {
        ssize_t r = recv(fd, buf + len, HTTP_MAX - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            err = errno;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (!buf) {
        check_fail(c, "out of memory");
        return false;
    }
    buf[len] = '\0';
    bool ok = false;
    int status = 0;
    char *body = strstr(buf, "\r\n\r\n");
    if (err) {
        check_fail(c, "receive: %s after %zu bytes", strerror(err), len);
    } else if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1 || !body) {
        check_fail(c, "not an HTTP response (%zu bytes)", len);
    } else {
        body += 4;
        size_t blen = len - (size_t)(body - buf);
        check_info(c, "http GET %s:%d%s status %d bytes %zu crc32 %08x", host, port, path, status,
                   blen, crc32_update(0, body, blen));
        if (status != 200)
            check_fail(c, "HTTP status %d", status);
        else
            ok = true;
    }
    free(buf);
    return ok;
}

/* Reads one line (without its newline) with the socket's time limit. */
static bool recv_line(int fd, char *line, size_t size)
{
    size_t len = 0;
    while (len + 1 < size) {
        char ch;
        ssize_t n = recv(fd, &ch, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        if (ch == '\n')
            break;
        if (ch != '\r')
            line[len++] = ch;
    }
    line[len] = '\0';
    return true;
}

/* Serves one client: greets it, reads one line and echoes it back. */
static bool serve_one(struct check *c, int port, int seconds)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        check_fail(c, "socket: %s", strerror(errno));
        return false;
    }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 4) != 0) {
        check_fail(c, "listen on port %d: %s", port, strerror(errno));
        close(lfd);
        return false;
    }
    check_info(c, "listening on port %d", port);
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    int n = poll(&p, 1, seconds * 1000);
    if (n <= 0) {
        check_fail(c, "no client on port %d within %d s", port, seconds);
        close(lfd);
        return false;
    }
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
    close(lfd);
    if (fd < 0) {
        check_fail(c, "accept: %s", strerror(errno));
        return false;
    }
    set_timeouts(fd, 15);
    char from[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &peer.sin_addr, from, sizeof from);
    const char hello[] = "VIREO-GUEST-HELLO\n";
    char line[256], reply[300];
    bool ok = false;
    if (!send_all(fd, hello, sizeof hello - 1)) {
        check_fail(c, "send to the client: %s", strerror(errno));
    } else if (!recv_line(fd, line, sizeof line)) {
        check_fail(c, "no line from the client: %s", strerror(errno));
    } else {
        int m = snprintf(reply, sizeof reply, "VIREO-GUEST-ECHO %s\n", line);
        if (!send_all(fd, reply, (size_t)m)) {
            check_fail(c, "send the echo: %s", strerror(errno));
        } else {
            check_info(c, "served %s:%d: '%s'", from, ntohs(peer.sin_port), line);
            ok = true;
        }
    }
    shutdown(fd, SHUT_WR);
    /* Wait for the client to close first, so the echo is not cut off. */
    char drain[64];
    while (recv(fd, drain, sizeof drain, 0) > 0)
        ;
    close(fd);
    return ok;
}

enum result check_net(struct check *c)
{
    const char *ifname = param_or("net_if", "eth0");
    if (!virtio_present(VIRTIO_ID_NET))
        return check_missing(c, "virtio-net device");
    int waited = 0;
    while (if_nametoindex(ifname) == 0 && waited++ < 50) {
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (if_nametoindex(ifname) == 0)
        return check_missing(c, ifname);
    const char *gw = param_or("gw", "10.0.2.2");
    if (!configure(c, ifname, param_or("ip", "10.0.2.15"), param_or("netmask", "255.255.255.0"),
                   gw))
        return RESULT_FAIL;
    long http_port = param_long("http_port", 0);
    if (http_port > 0 &&
        !http_get(c, param_or("http_host", gw), (int)http_port, param_or("http_path", "/")))
        return RESULT_FAIL;
    long serve_port = param_long("serve_port", 0);
    if (serve_port > 0 && !serve_one(c, (int)serve_port, (int)param_long("serve_timeout", 60)))
        return RESULT_FAIL;
    if (http_port <= 0 && serve_port <= 0)
        check_info(c, "no vireo.http_port or vireo.serve_port: configured the interface only");
    return RESULT_PASS;
}
