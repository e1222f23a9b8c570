/*
 * order_raft.c - the `raft` ordering backend (order.h) over Debian's C Raft
 * library (libraft, canonical/raft 0.15) with its libuv I/O backend: log
 * segments on disk in opts.dir, TCP between the members.
 *
 * Threads. libraft is single-threaded: every raft_* and uv_* call (but
 * uv_async_send) happens on the backend's own thread, which runs the libuv
 * loop. Other threads talk to it through
 *   - a proposal queue (mu) drained on that thread after uv_async_send, and
 *     a stop flag handled the same way;
 *   - atomics mirroring the Raft role, leader id, term and indexes, which a
 *     timer on the loop refreshes every TICK_MS (libraft 0.15 has no
 *     role-change callback).
 * The FSM's apply hands each committed entry to handler.deliver on the loop
 * thread; the node copies it to its own apply queue, so applying a block
 * (execution + LMDB commit + fsync) never stalls heartbeats.
 *
 * Snapshots (FSM version 2): every opts.snapshot_threshold applied
 * entries libraft calls fsm_snapshot on the loop thread; the node waits
 * until every delivered entry is applied and dumps its store
 * (handler.snapshot), which libraft writes to opts.dir; snapshot_finalize
 * frees it. A follower whose next entry the leader no longer has gets the
 * leader's snapshot and fsm_restore hands it to handler.restore (also at
 * start, with this node's last snapshot; the node ignores one it is past).
 * libraft 0.15 keeps a snapshot in memory as one buffer, so a snapshot
 * costs about the store's live size in RAM while it is taken, sent or
 * restored, and the loop (heartbeats) waits while it is taken. Known
 * libraft points handled here:
 * the apply callback has no log index (the height is in the entry); an
 * apply error after a proposal (leadership lost) does not mean the entry
 * was not committed (passed on as such to proposal_failed); SIGPIPE must
 * be ignored by the process (pel node does).
 */
#include "node/order.h"

#include <errno.h>
#include <pthread.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "core/log.h"

#define TICK_MS 10

typedef struct proposal {
    uint64_t height;
    struct raft_buffer buf;      /* raft_malloc'd: raft owns it once appended */
    struct proposal *next;
} proposal;

/* One raft_apply in flight (freed by its callback). */
typedef struct apply_req {
    struct raft_apply req;
    uint64_t height;
    struct rnode *r;
} apply_req;

typedef struct rnode {
    pel_order base;              /* first: a pel_order * is an rnode * */
    pel_order_raft_opts o;
    pel_order_handler h;
    char self_addr[128];
    pthread_t thread;
    int running;                 /* thread started (owner's threads only) */
    /* loop thread only */
    uv_loop_t loop;
    uv_async_t async;
    uv_timer_t tick;
    struct raft_uv_transport transport;
    struct raft_io io;
    struct raft_fsm fsm;
    struct raft raft;
    int closing;
    int handing_off;             /* a leadership transfer runs before the close */
    struct raft_transfer transfer;
    /* guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int up;                      /* 0 starting, 1 running, -1 start failed */
    int stop_req;
    char start_err[4400];
    proposal *head, *tail;
    /* mirrors of the loop's Raft state; relaxed: status values, no data
     * is published through them */
    atomic_int role;
    atomic_uint_fast64_t leader_id, term, last_index, applied_index;
} rnode;

/* ---- FSM ---- */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    rnode *r = fsm->data;
    *result = NULL;
    r->h.deliver(r->h.ctx, buf->base, buf->len);
    return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    rnode *r = fsm->data;
    uint8_t *data = NULL;
    size_t len = 0;
    if (!r->h.snapshot) return RAFT_NOTFOUND;
    int rc = r->h.snapshot(r->h.ctx, &data, &len);
    if (rc) {
        pel_log(PEL_LOG_WARN, "raft: no snapshot this time: %s", pel_strerror(rc));
        return rc == PEL_ENOMEM ? RAFT_NOMEM : RAFT_IOERR;
    }
    *bufs = raft_malloc(sizeof **bufs);
    if (!*bufs) { free(data); return RAFT_NOMEM; }
    (*bufs)[0].base = data;
    (*bufs)[0].len = len;
    *n = 1;
    pel_log(PEL_LOG_INFO, "raft: snapshot taken at index %llu (%zu bytes)",
            (unsigned long long)raft_last_applied(&r->raft), len);
    return 0;
}

/* Version 2: libraft is done with the buffers (stored or not): ours to free. */
static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    (void)fsm;
    for (unsigned i = 0; *bufs && i < *n; i++) free((*bufs)[i].base);
    raft_free(*bufs);
    *bufs = NULL;
    *n = 0;
    return 0;
}

/* On success the FSM owns buf->base (libraft frees only the array). */
static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    rnode *r = fsm->data;
    if (!r->h.restore) {
        pel_log(PEL_LOG_ERROR, "raft: a snapshot was sent to this node, which takes none");
        return RAFT_NOTFOUND;
    }
    int rc = r->h.restore(r->h.ctx, buf->base, buf->len);
    if (rc) {
        pel_log(PEL_LOG_ERROR, "raft: cannot restore a snapshot of %zu bytes: %s", buf->len,
                pel_strerror(rc));
        return RAFT_IOERR;
    }
    raft_free(buf->base);
    return 0;
}

/* ---- the loop thread ---- */

static void refresh(rnode *r)
{
    raft_id id = 0;
    const char *addr = NULL;
    raft_leader(&r->raft, &id, &addr);
    atomic_store_explicit(&r->role, raft_state(&r->raft), memory_order_relaxed);
    atomic_store_explicit(&r->leader_id, id, memory_order_relaxed);
    atomic_store_explicit(&r->term, r->raft.current_term, memory_order_relaxed);
    atomic_store_explicit(&r->last_index, raft_last_index(&r->raft), memory_order_relaxed);
    atomic_store_explicit(&r->applied_index, raft_last_applied(&r->raft), memory_order_relaxed);
}

static void on_tick(uv_timer_t *t)
{
    refresh(t->data);
}

static void on_applied(struct raft_apply *req, int status, void *result)
{
    apply_req *a = (apply_req *)req;
    (void)result;
    if (status) {
        int code = status == RAFT_NOTLEADER ? PEL_ENOTLEADER
                 : status == RAFT_SHUTDOWN ? PEL_ESTOPPED : PEL_EIO;
        pel_log(PEL_LOG_WARN, "raft: block %llu: %s", (unsigned long long)a->height,
                raft_strerror(status));
        a->r->h.proposal_failed(a->r->h.ctx, a->height, code);
    }
    free(a);
}

static void propose_one(rnode *r, proposal *p)
{
    apply_req *a = calloc(1, sizeof *a);
    int rc = a ? raft_apply(&r->raft, &a->req, &p->buf, 1, on_applied) : RAFT_NOMEM;
    if (a) { a->height = p->height; a->r = r; }
    if (rc) {
        free(a);
        raft_free(p->buf.base);
        r->h.proposal_failed(r->h.ctx, p->height,
                             rc == RAFT_NOTLEADER ? PEL_ENOTLEADER : PEL_EIO);
    }
    free(p);
}

static void on_handles_closed(uv_handle_t *h) { (void)h; }

static void on_raft_closed(struct raft *raft)
{
    rnode *r = raft->data;
    raft_uv_close(&r->io);
    raft_uv_tcp_close(&r->transport);
    uv_close((uv_handle_t *)&r->async, on_handles_closed);
    uv_close((uv_handle_t *)&r->tick, on_handles_closed);
}

static void close_now(rnode *r)
{
    r->closing = 1;
    uv_timer_stop(&r->tick);
    raft_close(&r->raft, on_raft_closed);
}

/* The hand-off ended: leadership moved, or election_timeout passed. */
static void on_transferred(struct raft_transfer *req)
{
    rnode *r = req->data;
    raft_id id = 0;
    const char *addr = NULL;
    raft_leader(&r->raft, &id, &addr);
    if (id && id != r->o.id)
        pel_log(PEL_LOG_INFO, "raft: leadership handed to member %llu before stopping",
                (unsigned long long)id);
    else
        pel_log(PEL_LOG_WARN, "raft: no member took over the leadership before stopping; the "
                "others elect one after their election timeout");
    if (!r->closing) close_now(r);
}

/* Stopping: a leader first hands its leadership to a voting follower
 * (raft_transfer), so the cluster does not wait an election timeout. */
static void stop_loop(rnode *r)
{
    if (r->closing || r->handing_off) return;
    if (raft_state(&r->raft) == RAFT_LEADER) {
        r->handing_off = 1;
        r->transfer.data = r;
        if (raft_transfer(&r->raft, &r->transfer, 0, on_transferred) == 0) return;
    }
    close_now(r);
}

static void on_async(uv_async_t *as)
{
    rnode *r = as->data;
    pthread_mutex_lock(&r->mu);
    proposal *list = r->head;
    int stop = r->stop_req;
    r->head = r->tail = NULL;
    pthread_mutex_unlock(&r->mu);
    while (list) {
        proposal *next = list->next;
        if (stop || r->closing) {
            raft_free(list->buf.base);
            r->h.proposal_failed(r->h.ctx, list->height, PEL_ESTOPPED);
            free(list);
        } else {
            propose_one(r, list);
        }
        list = next;
    }
    if (stop) stop_loop(r);
}

static int bootstrap(rnode *r)
{
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    int rc = 0;
    for (unsigned i = 0; !rc && i < r->o.n_peers; i++)
        rc = raft_configuration_add(&conf, r->o.peers[i].id, r->o.peers[i].raft, RAFT_VOTER);
    if (!rc) rc = raft_bootstrap(&r->raft, &conf);
    raft_configuration_close(&conf);
    return rc == RAFT_CANTBOOTSTRAP ? 0 : rc;     /* not pristine: the log has the configuration */
}

/* How long a leader waits for the answer to an InstallSnapshot before it
 * sends it again (libraft's default: 30 s). A follower refuses one (BUSY)
 * while it is writing a snapshot of its own, which happens when it was slow
 * to answer because it was taking that snapshot; the leader then waits the
 * whole timeout with that follower stalled. A few election timeouts keep
 * that short; a snapshot whose transfer takes longer is only sent again. */
static unsigned install_timeout_ms(const pel_order_raft_opts *o)
{
    unsigned t = 5 * o->election_timeout_ms;
    return t < 2000 ? 2000 : t;
}

/* Set everything up on the loop thread. On failure after raft_init the
 * caller runs the loop once more to let raft_close finish. */
static int setup(rnode *r, int *need_close)
{
    int rc;
    *need_close = 0;
    if ((rc = uv_loop_init(&r->loop)) != 0) {
        snprintf(r->start_err, sizeof r->start_err, "uv_loop_init: %s", uv_strerror(rc));
        return -1;
    }
    if ((rc = raft_uv_tcp_init(&r->transport, &r->loop)) != 0) {
        snprintf(r->start_err, sizeof r->start_err, "raft transport: %s", raft_strerror(rc));
        return -2;
    }
    if ((rc = raft_uv_init(&r->io, &r->loop, r->o.dir, &r->transport)) != 0) {
        snprintf(r->start_err, sizeof r->start_err, "raft log in %s: %s", r->o.dir, raft_strerror(rc));
        raft_uv_tcp_close(&r->transport);
        return -2;
    }
    r->fsm = (struct raft_fsm){ .version = 2, .data = r, .apply = fsm_apply,
                                .snapshot = fsm_snapshot, .restore = fsm_restore,
                                .snapshot_finalize = fsm_snapshot_finalize };
    if ((rc = raft_init(&r->raft, &r->io, &r->fsm, r->o.id, r->self_addr)) != 0) {
        snprintf(r->start_err, sizeof r->start_err, "raft_init: %s", raft_strerror(rc));
        raft_uv_close(&r->io);
        raft_uv_tcp_close(&r->transport);
        return -2;
    }
    r->raft.data = r;
    uv_async_init(&r->loop, &r->async, on_async);
    r->async.data = r;
    uv_timer_init(&r->loop, &r->tick);
    r->tick.data = r;
    *need_close = 1;
    raft_set_election_timeout(&r->raft, r->o.election_timeout_ms);
    raft_set_heartbeat_timeout(&r->raft, r->o.heartbeat_ms);
    raft_set_snapshot_threshold(&r->raft, r->o.snapshot_threshold ? r->o.snapshot_threshold
                                                                 : 0xFFFFFFFFu);
    raft_set_snapshot_trailing(&r->raft, r->o.snapshot_trailing);
    raft_set_install_snapshot_timeout(&r->raft, install_timeout_ms(&r->o));
    raft_set_pre_vote(&r->raft, true);
    if ((rc = bootstrap(r)) != 0) {
        snprintf(r->start_err, sizeof r->start_err, "raft bootstrap: %s", raft_strerror(rc));
        return -3;
    }
    if ((rc = raft_start(&r->raft)) != 0) {
        snprintf(r->start_err, sizeof r->start_err, "raft start: %s (%s)", raft_strerror(rc),
                 raft_errmsg(&r->raft));
        return -3;
    }
    uv_timer_start(&r->tick, on_tick, TICK_MS, TICK_MS);
    return 0;
}

static void report_up(rnode *r, int up)
{
    pthread_mutex_lock(&r->mu);
    r->up = up;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
}

static void *loop_main(void *arg)
{
    rnode *r = arg;
    int need_close;
    int rc = setup(r, &need_close);
    if (rc == -1) { report_up(r, -1); return NULL; }
    if (rc) {
        if (need_close) { r->closing = 1; raft_close(&r->raft, on_raft_closed); }
        uv_run(&r->loop, UV_RUN_DEFAULT);
        uv_loop_close(&r->loop);
        report_up(r, -1);
        return NULL;
    }
    refresh(r);
    report_up(r, 1);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&r->loop) != 0) pel_log(PEL_LOG_WARN, "raft: the event loop closed with handles open");
    return NULL;
}

/* ---- ops ---- */

static int raft_start_op(pel_order *o, char *err, size_t errlen)
{
    rnode *r = (rnode *)o;
    if (mkdir(r->o.dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the raft directory %s: %s", r->o.dir, strerror(errno));
        return PEL_EIO;
    }
    if (pthread_create(&r->thread, NULL, loop_main, r) != 0) return PEL_ENOMEM;
    r->running = 1;
    pthread_mutex_lock(&r->mu);
    while (r->up == 0) pthread_cond_wait(&r->cond, &r->mu);
    int up = r->up;
    pthread_mutex_unlock(&r->mu);
    if (up > 0) {
        pel_log(PEL_LOG_INFO, "raft: node %llu on %s, %u peers, log in %s",
                (unsigned long long)r->o.id, r->self_addr, r->o.n_peers, r->o.dir);
        return 0;
    }
    pthread_join(r->thread, NULL);
    r->running = 0;
    snprintf(err, errlen, "%s", r->start_err);
    return PEL_EIO;
}

static void raft_stop_op(pel_order *o)
{
    rnode *r = (rnode *)o;
    if (!r->running) return;
    pthread_mutex_lock(&r->mu);
    r->stop_req = 1;
    pthread_mutex_unlock(&r->mu);
    uv_async_send(&r->async);
    pthread_join(r->thread, NULL);
    r->running = 0;
    /* proposals queued after the loop drained its queue */
    pthread_mutex_lock(&r->mu);
    proposal *list = r->head;
    r->head = r->tail = NULL;
    pthread_mutex_unlock(&r->mu);
    while (list) {
        proposal *next = list->next;
        raft_free(list->buf.base);
        free(list);
        list = next;
    }
}

static void raft_free_op(pel_order *o)
{
    rnode *r = (rnode *)o;
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static int raft_is_leader_op(pel_order *o)
{
    rnode *r = (rnode *)o;
    return atomic_load_explicit(&r->role, memory_order_relaxed) == RAFT_LEADER;
}

static int raft_propose_op(pel_order *o, uint64_t height, const uint8_t *entry, size_t len)
{
    rnode *r = (rnode *)o;
    if (!raft_is_leader_op(o)) return PEL_ENOTLEADER;
    proposal *p = calloc(1, sizeof *p);
    void *base = p ? raft_malloc(len ? len : 1) : NULL;
    if (!base) { free(p); return PEL_ENOMEM; }
    memcpy(base, entry, len);
    p->height = height;
    p->buf.base = base;
    p->buf.len = len;
    pthread_mutex_lock(&r->mu);
    int stopping = r->stop_req || !r->running;
    if (!stopping) {
        if (r->tail) r->tail->next = p;
        else r->head = p;
        r->tail = p;
    }
    pthread_mutex_unlock(&r->mu);
    if (stopping) { raft_free(base); free(p); return PEL_ESTOPPED; }
    uv_async_send(&r->async);
    return 0;
}

static void raft_status_op(pel_order *o, pel_order_status *st)
{
    rnode *r = (rnode *)o;
    int role = atomic_load_explicit(&r->role, memory_order_relaxed);
    st->role = role == RAFT_LEADER ? "leader" : role == RAFT_FOLLOWER ? "follower"
             : role == RAFT_CANDIDATE ? "candidate" : "unavailable";
    st->leader = role == RAFT_LEADER;
    st->id = r->o.id;
    st->leader_id = atomic_load_explicit(&r->leader_id, memory_order_relaxed);
    st->term = atomic_load_explicit(&r->term, memory_order_relaxed);
    st->last_index = atomic_load_explicit(&r->last_index, memory_order_relaxed);
    st->applied_index = atomic_load_explicit(&r->applied_index, memory_order_relaxed);
}

static const pel_order_ops raft_ops = {
    "raft", 0, raft_start_op, raft_stop_op, raft_free_op, raft_is_leader_op, raft_propose_op,
    raft_status_op,
};

int pel_order_raft_new(const pel_order_raft_opts *o, const pel_order_handler *h,
                       pel_order **out, char *err, size_t errlen)
{
    *out = NULL;
    const pel_cluster_peer *self = NULL;
    for (unsigned i = 0; i < o->n_peers && i < PEL_CLUSTER_MAX; i++)
        if (o->peers[i].id == o->id) self = &o->peers[i];
    if (!self || o->id == 0) {
        snprintf(err, errlen, "cluster.id %llu is not one of cluster.peers", (unsigned long long)o->id);
        return PEL_EINVAL;
    }
    rnode *r = calloc(1, sizeof *r);
    if (!r) return PEL_ENOMEM;
    r->base.ops = &raft_ops;
    r->o = *o;
    r->h = *h;
    snprintf(r->self_addr, sizeof r->self_addr, "%s", self->raft);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cond, NULL);
    *out = &r->base;
    return 0;
}
