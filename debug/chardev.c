/*
 * Listening sockets for the debugger's endpoints, in QEMU's spellings:
 * tcp:[HOST]:PORT (always bound to 127.0.0.1: the stub gives full control
 * of the machine, so it is never offered to the network) and unix:PATH.
 * Options after a comma (server, nowait, wait=off) are accepted and
 * change nothing: the socket always listens and never waits here.
 */
#define _POSIX_C_SOURCE 200809L
#include "session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The address part of `spec` (up to the first comma), in `buf`. */
static const char *addr_part(const char *spec, char *buf, size_t len)
{
    size_t n = strcspn(spec, ",");
    if (n >= len)
        n = len - 1;
    memcpy(buf, spec, n);
    buf[n] = 0;
    return buf;
}

static int listen_tcp(const char *hostport, char *why, size_t whylen)
{
    const char *colon = strrchr(hostport, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon[1] == 0 || *end || port < 0 || port > 65535) {
        snprintf(why, whylen, "expected tcp:[HOST]:PORT");
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((u16)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0) {
        snprintf(why, whylen, "cannot listen on 127.0.0.1:%ld: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int listen_unix(const char *path, char *why, size_t whylen)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (!*path || strlen(path) >= sizeof a.sun_path) {
        snprintf(why, whylen, "socket path empty or longer than %zu bytes",
                 sizeof a.sun_path - 1);
        return -1;
    }
    strcpy(a.sun_path, path);
    /* A socket file left by an earlier run is replaced; any other file is
     * not touched. */
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0) {
        snprintf(why, whylen, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int chr_listen(const char *spec, char *why, size_t whylen)
{
    char buf[512];
    const char *a = addr_part(spec, buf, sizeof buf);
    if (!strncmp(a, "tcp:", 4))
        return listen_tcp(a + 4, why, whylen);
    if (!strncmp(a, "unix:", 5))
        return listen_unix(a + 5, why, whylen);
    snprintf(why, whylen, "expected tcp:[HOST]:PORT or unix:PATH");
    return -1;
}

bool dbg_gdb_spec_ok(const char *spec, const char *flag, FILE *err)
{
    if (!strncmp(spec, "tcp:", 4) && strrchr(spec, ':')[1])
        return true;
    if (!strncmp(spec, "unix:", 5) && spec[5])
        return true;
    fprintf(err, "umbra: %s %s: expected tcp::PORT, tcp:HOST:PORT or unix:PATH\n", flag, spec);
    return false;
}

bool dbg_monitor_spec_ok(const char *spec, const char *flag, FILE *err)
{
    if (!strcmp(spec, "stdio"))
        return true;
    if (!strncmp(spec, "tcp:", 4) || !strncmp(spec, "unix:", 5)) {
        char buf[512];
        const char *a = addr_part(spec, buf, sizeof buf);
        if (a[0] == 't' ? strrchr(a, ':')[1] != 0 : a[5] != 0)
            return true;
    }
    fprintf(err, "umbra: %s %s: expected stdio, unix:PATH,server,nowait or "
                 "tcp:HOST:PORT,server,nowait\n", flag, spec);
    return false;
}
