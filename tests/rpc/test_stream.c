/*
 * test_stream.c - the HTTP server's event streams (rpc/http.h): a stream
 * with nothing due is parked until pel_http_wake and then sends what is
 * due; a stream that ends closes its response; open errors, the stream
 * limit and HEAD; a client gone while parked is cleaned up after the next
 * wake; stopping the server with parked streams neither hangs nor leaks.
 * Also run under ThreadSanitizer (wakes race with the server threads).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_conn.h"
#include "rpc/http.h"
#include "test.h"

/* The fake source: `available` numbered events; a stream sends the ones
 * it has not sent yet, and ends after `end` of them when ?end=N. */
typedef struct source {
    pthread_mutex_t mu;
    int available, opened, closed, nexts;
} source;

typedef struct fake { int sent, end; } fake;

static source src = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };
static pel_http *srv;

static int f_open(void *ctx, const char *path, const pel_http_request *rq, void **state, pel_buf *msg)
{
    source *s = ctx;
    const char *end = pel_http_request_arg(rq, "end");
    if (strcmp(path, "/s") != 0) return 404;
    if (pel_http_request_arg(rq, "bad")) {
        return pel_buf_append(msg, "bad argument\n", 13) ? 500 : 400;   /* no CHECK: a server thread */
    }
    fake *f = calloc(1, sizeof *f);
    if (!f) return 500;
    f->end = end ? atoi(end) : -1;
    pthread_mutex_lock(&s->mu);
    s->opened++;
    pthread_mutex_unlock(&s->mu);
    *state = f;
    return 0;
}

static int f_next(void *ctx, void *state, pel_buf *out)
{
    source *s = ctx;
    fake *f = state;
    char line[32];
    pthread_mutex_lock(&s->mu);
    int avail = s->available;
    s->nexts++;
    pthread_mutex_unlock(&s->mu);
    while (f->sent < avail && f->sent != f->end) {
        int n = snprintf(line, sizeof line, "data: %d\n\n", f->sent++);
        if (pel_buf_append(out, line, (size_t)n)) return PEL_ENOMEM;
    }
    return f->sent == f->end ? 1 : 0;
}

static void f_close(void *ctx, void *state)
{
    source *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->closed++;
    pthread_mutex_unlock(&s->mu);
    free(state);
}

static const pel_http_stream_ops ops = { f_open, f_next, f_close };

static void set_available(int n)
{
    pthread_mutex_lock(&src.mu);
    src.available = n;
    pthread_mutex_unlock(&src.mu);
}

static int nexts(void)
{
    pthread_mutex_lock(&src.mu);
    int n = src.nexts;
    pthread_mutex_unlock(&src.mu);
    return n;
}

/* Wait until the server asked a stream (it found nothing and parked). */
static void wait_asked(int before)
{
    for (int i = 0; i < 200 && nexts() <= before; i++) {
        struct timespec ts = { 0, 5 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

static int counts(int *opened)
{
    pthread_mutex_lock(&src.mu);
    int c = src.closed;
    if (opened) *opened = src.opened;
    pthread_mutex_unlock(&src.mu);
    return c;
}

static int start(unsigned max_streams)
{
    static const pel_http_stream_route streams[] = { { "/s", &ops, &src } };
    pel_http_opts o = pel_http_defaults();
    o.port = 0;
    o.streams = streams;
    o.n_streams = 1;
    o.max_streams = max_streams;
    o.keepalive_ms = 50;                     /* notice gone clients quickly */
    return pel_http_start(&o, NULL, 0, NULL, &srv);
}

static int open_conn(hc_conn *c, const char *method, const char *path)
{
    return hc_open(c, pel_http_port(srv), method, path, NULL);
}

static void wait_closed(int want)
{
    for (int i = 0; i < 200 && counts(NULL) < want; i++) {
        struct timespec ts = { 0, 10 * 1000000L };
        pel_http_wake(srv);
        nanosleep(&ts, NULL);
    }
}

/* ---- tests ---- */

static void parked_until_wake(void)
{
    hc_conn c;
    set_available(0);
    int asked = nexts();
    CHECK_EQ_INT(open_conn(&c, "GET", "/s"), 0);
    CHECK(hc_read_until(&c, "\r\n\r\n", 2000));                   /* headers */
    wait_asked(asked);
    CHECK(strstr(c.buf, "HTTP/1.1 200") == c.buf);
    CHECK(strstr(c.buf, "Content-Type: text/event-stream") != NULL);
    CHECK(strstr(c.buf, "Cache-Control: no-cache") != NULL);
    set_available(2);
    CHECK(!hc_read_until(&c, "data: 0", 300));                    /* parked: no wake yet */
    pel_http_wake(srv);
    CHECK(hc_read_until(&c, "data: 1", 2000));
    CHECK(strstr(c.buf, "data: 0") != NULL);
    set_available(3);
    for (int i = 0; i < 3; i++) pel_http_wake(srv);            /* repeated wakes are harmless */
    CHECK(hc_read_until(&c, "data: 2", 2000));
    CHECK(!hc_read_until(&c, "data: 3", 200));                     /* nothing beyond what is due */
    pel_http_wake(srv);                                        /* silent > keepalive_ms */
    CHECK(hc_read_until(&c, ": keepalive\n\n", 2000));
    int before = counts(NULL);
    close(c.fd);
    wait_closed(before + 1);                                   /* gone while parked: cleaned up */
    CHECK_EQ_INT(counts(NULL), before + 1);
}

static void stream_ends(void)
{
    hc_conn c;
    set_available(5);
    CHECK_EQ_INT(open_conn(&c, "GET", "/s?end=2"), 0);
    CHECK(hc_read_until(&c, "data: 1", 2000));
    CHECK(hc_read_until(&c, "\r\n0\r\n\r\n", 2000));              /* the last chunk */
    CHECK(strstr(c.buf, "data: 2") == NULL);
    close(c.fd);
}

static void open_errors_and_head(void)
{
    hc_conn c;
    CHECK_EQ_INT(open_conn(&c, "GET", "/s?bad=1"), 0);
    CHECK(hc_read_until(&c, "bad argument", 2000));
    CHECK(strstr(c.buf, "HTTP/1.1 400") == c.buf);
    close(c.fd);
    CHECK_EQ_INT(open_conn(&c, "GET", "/s/other"), 0);
    CHECK(hc_read_until(&c, "\r\n\r\n", 2000));
    CHECK(strstr(c.buf, "HTTP/1.1 404") == c.buf);
    close(c.fd);
    CHECK_EQ_INT(open_conn(&c, "HEAD", "/s"), 0);
    CHECK(hc_read_until(&c, "\r\n\r\n", 2000));
    CHECK(strstr(c.buf, "HTTP/1.1 200") == c.buf);
    CHECK(strstr(c.buf, "text/event-stream") != NULL);
    close(c.fd);
    CHECK_EQ_INT(open_conn(&c, "POST", "/s"), 0);
    CHECK(hc_read_until(&c, "\r\n\r\n", 2000));
    CHECK(strstr(c.buf, "HTTP/1.1 405") == c.buf);
    close(c.fd);
}

static void stream_limit(void)
{
    hc_conn c[5];
    int opened0;
    set_available(0);
    counts(&opened0);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(open_conn(&c[i], "GET", "/s"), 0);
        CHECK(hc_read_until(&c[i], "\r\n\r\n", 2000));
    }
    CHECK_EQ_INT(open_conn(&c[4], "GET", "/s"), 0);
    CHECK(hc_read_until(&c[4], "too many event streams", 2000));
    CHECK(strstr(c[4].buf, "HTTP/1.1 503") == c[4].buf);
    close(c[4].fd);
    int before = counts(NULL);
    close(c[0].fd);
    wait_closed(before + 1);
    CHECK_EQ_INT(open_conn(&c[4], "GET", "/s"), 0);           /* a slot is free again */
    CHECK(hc_read_until(&c[4], "\r\n\r\n", 2000));
    CHECK(strstr(c[4].buf, "HTTP/1.1 200") == c[4].buf);
    /* stopping with parked streams: no hang, every stream closed */
    pel_http_stop(srv);
    srv = NULL;
    int opened;
    int closed = counts(&opened);
    CHECK_EQ_INT(closed, opened);
    CHECK(opened - opened0 == 5);
    for (int i = 1; i < 5; i++) {
        CHECK(hc_closed(&c[i], 2000));
        close(c[i].fd);
    }
}

int main(void)
{
    if (start(4) != 0) {
        fprintf(stderr, "cannot start the server\n");
        return 1;
    }
    RUN(parked_until_wake);
    RUN(stream_ends);
    RUN(open_errors_and_head);
    RUN(stream_limit);
    pel_http_stop(srv);
    /* a bad stream route is refused */
    pel_http_stream_route bad = { "s", &ops, &src };
    pel_http_opts o = pel_http_defaults();
    o.streams = &bad;
    o.n_streams = 1;
    pel_http *h = NULL;
    CHECK_EQ_INT(pel_http_start(&o, NULL, 0, NULL, &h), PEL_EINVAL);
    bad.prefix = "/s";
    o.max_streams = o.max_connections;
    CHECK_EQ_INT(pel_http_start(&o, NULL, 0, NULL, &h), PEL_EINVAL);
    return TEST_END("test_stream");
}
