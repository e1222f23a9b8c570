/*
 * events.c - the node's event streams (events.h): block and transaction
 * events over server-sent events, and the watcher that wakes them.
 */
#include "rpc/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/hex.h"
#include "core/log.h"
#include "ledger/block.h"
#include "rpc/methods.h"
#include "rpc/reply.h"

struct pel_events {
    pel_node *n;
    pel_http *h;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running, stop;
};

/* One stream's state. */
typedef struct ev_stream {
    bool tx;                  /* a transaction's status, not blocks */
    uint8_t id[32];
    int last_state;           /* tx: the status sent last, -1 none */
    uint64_t sent;            /* blocks: the last height sent */
} ev_stream;

/* A decimal u64 argument; false if malformed. */
static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s < '0' || *s > '9') return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static int fail(pel_buf *msg, int status, const char *text)
{
    if (pel_buf_append(msg, text, strlen(text))) pel_buf_reset(msg);   /* the status alone */
    return status;
}

static int ev_open(void *ctx, const char *path, const pel_http_request *rq, void **state, pel_buf *msg)
{
    pel_events *e = ctx;
    if (strcmp(path, "/events") != 0) return fail(msg, 404, "not found\n");
    const char *tx = pel_http_request_arg(rq, "tx");
    const char *from = pel_http_request_arg(rq, "from");
    const char *last = pel_http_request_header(rq, "Last-Event-ID");
    ev_stream *s = calloc(1, sizeof *s);
    if (!s) return fail(msg, 503, "out of memory\n");
    s->last_state = -1;
    uint64_t head = pel_chain_get_head(pel_node_chain(e->n)).height, h = head;
    size_t n;
    if (tx) {
        s->tx = true;
        if (strlen(tx) != 64 || pel_hex_decode(tx, 64, s->id, 32, &n) || from) {
            free(s);
            return fail(msg, 400, "tx must be a transaction id (64 hex digits), without from\n");
        }
    } else if ((from && !parse_u64(from, &h)) || (!from && last && !parse_u64(last, &h))) {
        free(s);
        return fail(msg, 400, "from (or Last-Event-ID) must be a block height\n");
    }
    if (!s->tx && h > head) h = head;   /* nothing beyond the head yet: from the head on */
    if (!s->tx && head - h > PEL_EVENTS_REPLAY_MAX) h = head - PEL_EVENTS_REPLAY_MAX;
    s->sent = h;
    *state = s;
    return 0;
}

/* Appends text, returning false when out of memory. */
static bool put(pel_buf *out, const char *text)
{
    return pel_buf_append(out, text, strlen(text)) == 0;
}

/* "id: …\nevent: name\ndata: json\n\n" (the JSON has no newline). */
static int put_event(pel_buf *out, const char *name, uint64_t id, bool with_id, cJSON *data)
{
    char head[96];
    char *json = data ? cJSON_PrintUnformatted(data) : NULL;
    if (!json) return PEL_ENOMEM;
    if (with_id) snprintf(head, sizeof head, "id: %llu\nevent: %s\ndata: ", (unsigned long long)id, name);
    else snprintf(head, sizeof head, "event: %s\ndata: ", name);
    bool ok = put(out, head) && put(out, json) && put(out, "\n\n");
    cJSON_free(json);
    return ok ? 0 : PEL_ENOMEM;
}

static cJSON *block_event(pel_chain *c, uint64_t height)
{
    pel_buf rec;
    pel_block_header h;
    const uint8_t **raw = NULL;
    uint32_t *lens = NULL, cnt = 0;
    uint8_t hash[32];
    cJSON *o = NULL;
    pel_buf_init(&rec);
    if (pel_chain_block(c, height, &rec) == 0
        && pel_block_record_decode(rec.data, rec.len, &h, &raw, &lens, &cnt) == 0
        && pel_block_header_hash(&h, hash) == 0 && (o = cJSON_CreateObject()) != NULL) {
        cJSON_AddNumberToObject(o, "height", (double)h.height);
        pel_rpc_add_hex(o, "hash", hash, 32);
        pel_rpc_add_hex(o, "prev_hash", h.prev_hash, 32);
        cJSON_AddNumberToObject(o, "tx_count", h.tx_count);
        cJSON_AddNumberToObject(o, "timestamp_ms", (double)h.timestamp_ms);
        pel_rpc_add_hex(o, "state_root", h.state_root, 32);
        cJSON_AddNumberToObject(o, "history_size", (double)h.history_size);
    }
    free(raw);
    free(lens);
    pel_buf_free(&rec);
    return o;
}

/* At most this many blocks per call, so one stream far behind does not
 * hold a server thread for long; the rest follows on the next call. */
enum { BLOCKS_PER_CALL = 64 };

static int next_blocks(pel_events *e, ev_stream *s, pel_buf *out)
{
    pel_chain *c = pel_node_chain(e->n);
    uint64_t head = pel_chain_get_head(c).height;
    for (int i = 0; i < BLOCKS_PER_CALL && s->sent < head; i++) {
        cJSON *o = block_event(c, s->sent + 1);
        int rc = o ? put_event(out, "block", s->sent + 1, true, o) : PEL_EIO;
        cJSON_Delete(o);
        if (rc) return rc;
        s->sent++;
    }
    return 0;
}

static int next_tx(pel_events *e, ev_stream *s, pel_buf *out)
{
    cJSON *o;
    int state;
    int rc = pel_rpc_tx_status_json(e->n, s->id, &o, &state);
    if (rc) return rc;
    if (state != s->last_state) {
        rc = put_event(out, "tx", 0, false, o);
        s->last_state = state;
    }
    cJSON_Delete(o);
    if (rc) return rc;
    return state == PEL_TXS_COMMITTED || state == PEL_TXS_REJECTED ? 1 : 0;
}

static int ev_next(void *ctx, void *state, pel_buf *out)
{
    pel_events *e = ctx;
    ev_stream *s = state;
    int rc = s->tx ? next_tx(e, s, out) : next_blocks(e, s, out);
    if (rc < 0) pel_log(PEL_LOG_WARN, "rpc: event stream cut: %s", pel_strerror(rc));
    return rc;
}

static void ev_close(void *ctx, void *state)
{
    (void)ctx;
    free(state);
}

const pel_http_stream_ops pel_events_stream_ops = { ev_open, ev_next, ev_close };

/* ---- the watcher ---- */

static void *watch(void *arg)
{
    pel_events *e = arg;
    uint64_t seen = pel_chain_get_head(pel_node_chain(e->n)).height, last_wake = pel_mono_ms();
    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += PEL_EVENTS_POLL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&e->cv, &e->mu, &ts);
        if (e->stop) break;
        pthread_mutex_unlock(&e->mu);
        uint64_t head = pel_chain_get_head(pel_node_chain(e->n)).height, now = pel_mono_ms();
        if (head != seen || now - last_wake >= 1000) {
            seen = head;
            last_wake = now;
            pel_http_wake(e->h);
        }
        pthread_mutex_lock(&e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

int pel_events_new(pel_node *n, pel_events **out)
{
    pel_events *e = calloc(1, sizeof *e);
    *out = NULL;
    if (!e) return PEL_ENOMEM;
    if (pthread_mutex_init(&e->mu, NULL)) { free(e); return PEL_ENOMEM; }
    if (pthread_cond_init(&e->cv, NULL)) { pthread_mutex_destroy(&e->mu); free(e); return PEL_ENOMEM; }
    e->n = n;
    *out = e;
    return 0;
}

int pel_events_run(pel_events *e, pel_http *h)
{
    e->h = h;
    if (pthread_create(&e->th, NULL, watch, e)) return PEL_ENOMEM;
    e->running = true;
    return 0;
}

void pel_events_halt(pel_events *e)
{
    if (!e || !e->running) return;
    pthread_mutex_lock(&e->mu);
    e->stop = true;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->th, NULL);
    e->running = false;
}

void pel_events_free(pel_events *e)
{
    if (!e) return;
    pel_events_halt(e);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    free(e);
}
