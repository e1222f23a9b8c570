/*
 * http_conn.h - a raw HTTP/1.1 client for tests that read a response as it
 * arrives (event streams): connect, send a request, read until a string
 * appears, or see the server close.
 */
#ifndef PEL_TEST_HTTP_CONN_H
#define PEL_TEST_HTTP_CONN_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct hc_conn { int fd; char buf[65536]; size_t len; } hc_conn;

/* hc_open - connect to 127.0.0.1:port and send "METHOD path" with the
 * extra header lines (each ending in \r\n; NULL for none). @return 0 or -1. */
static inline int hc_open(hc_conn *c, uint16_t port, const char *method, const char *path,
                          const char *headers)
{
    char req[1024];
    struct sockaddr_in a;
    memset(c, 0, sizeof *c);
    memset(&a, 0, sizeof a);
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\n%s\r\n", method, path,
                     headers ? headers : "");
    if (n < 0 || (size_t)n >= sizeof req) return -1;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) return -1;
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0
        || send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) { close(c->fd); return -1; }
    return 0;
}

/* hc_read_until - read until `want` is in the buffer (true), the server
 * closes, or ms pass (false). */
static inline bool hc_read_until(hc_conn *c, const char *want, int ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        c->buf[c->len] = '\0';
        if (want && strstr(c->buf, want)) return true;
        clock_gettime(CLOCK_MONOTONIC, &t);
        int left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0 || c->len + 1 >= sizeof c->buf) return false;
        struct pollfd p = { c->fd, POLLIN, 0 };
        if (poll(&p, 1, left) <= 0) return false;
        ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
        if (k <= 0) return false;
        c->len += (size_t)k;
    }
}

/* hc_closed - did the server close within ms (reading what comes)? */
static inline bool hc_closed(hc_conn *c, int ms)
{
    struct pollfd p = { c->fd, POLLIN, 0 };
    while (poll(&p, 1, ms) > 0) {
        if (c->len + 1 >= sizeof c->buf) c->len = 0;
        ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
        if (k <= 0) return true;
        c->len += (size_t)k;
        c->buf[c->len] = '\0';
    }
    return false;
}

static inline void hc_close(hc_conn *c)
{
    close(c->fd);
}

#endif
