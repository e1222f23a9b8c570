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
 *
 * Membership (pel_order_change): ADD, PROMOTE and REMOVE requests queue
 * like proposals and run on the loop thread as raft_add / raft_assign /
 * raft_remove; the caller waits on a condition for the change's callback
 * (the new configuration committed) or for its own timeout, after which
 * the request lives on until libraft calls back (a reference count). The
 * configuration (ids, roles and "raft,rpc=api" addresses: order.h) is
 * mirrored under mu on every tick for pel_order_members. The transport's
 * connect is wrapped to dial only the raft part of an address.
 * libraft points handled here:
 * the apply callback has no log index (the height is in the entry); an
 * apply error after a proposal (leadership lost) does not mean the entry
 * was not committed (passed on as such to proposal_failed); SIGPIPE must
 * be ignored by the process (pel node does).
 */
#include "node/order.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <raft.h>
#include <raft/uv.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#include "core/clock.h"
#include "core/log.h"

#define TICK_MS 10

typedef struct proposal {
    uint64_t height;
    struct raft_buffer buf;      /* raft_malloc'd: raft owns it once appended */
    struct proposal *next;
} proposal;

/* One membership change: queued (mu), then on the loop thread until its
 * callback. Freed by whoever drops the last of its two references (the
 * waiting caller, the loop). */
typedef struct change_req {
    struct raft_change req;      /* first: the callback gets this */
    pel_change_op op;
    uint64_t id;
    char raft[128], rpc[128];
    struct rnode *r;
    /* guarded by r->mu */
    int refs, done, rc;
    char err[256];
    struct change_req *next;
} change_req;

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
    char self_addr[300];         /* in the configuration: "raft,rpc=api" */
    char self_raft[128];
    pthread_t thread;
    int running;                 /* thread started: written under mu by the owner's
                                    thread, which alone reads it without mu */
    /* loop thread only */
    uv_loop_t loop;
    uv_async_t async;
    uv_timer_t tick;
    struct raft_uv_transport transport;
    int (*tcp_connect)(struct raft_uv_transport *, struct raft_uv_connect *, raft_id,
                       const char *, raft_uv_connect_cb);
    struct raft_io io;
    struct raft_fsm fsm;
    struct raft raft;
    int closing;
    int handing_off;             /* a leadership transfer runs before the close */
    struct raft_transfer transfer;
    struct raft_transfer hand_off;   /* pel_order_hand_off's; data != NULL while it runs */
    /* guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int up;                      /* 0 starting, 1 running, -1 start failed */
    int stop_req;
    int hand_off_req;            /* pel_order_hand_off asked */
    char start_err[4400];
    proposal *head, *tail;
    change_req *ch_head, *ch_tail;
    pel_cluster_peer members[PEL_CLUSTER_MAX];   /* the configuration, as refreshed */
    unsigned n_members;
    /* mirrors of the loop's Raft state; relaxed: status values, no data
     * is published through them */
    atomic_int role;
    atomic_int self_role;        /* pel_member_role; -1: no configuration known yet;
                                    -2: a configuration without this node */
    atomic_uint voters;
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

static int role_of(int raft_role)
{
    return raft_role == RAFT_VOTER ? PEL_MEMBER_VOTER
         : raft_role == RAFT_STANDBY ? PEL_MEMBER_STANDBY : PEL_MEMBER_SPARE;
}

/* Mirror the configuration for other threads (under mu, when changed). */
static void refresh_members(rnode *r)
{
    const struct raft_configuration *c = &r->raft.configuration;
    pel_cluster_peer m[PEL_CLUSTER_MAX];
    unsigned n = 0, voters = 0;
    int self = -1;
    memset(m, 0, sizeof m);
    for (unsigned i = 0; i < c->n && n < PEL_CLUSTER_MAX; i++) {
        const struct raft_server *sv = &c->servers[i];
        m[n].id = sv->id;
        m[n].role = role_of(sv->role);
        if (pel_cluster_addr_parse(sv->address ? sv->address : "", m[n].raft, sizeof m[n].raft,
                                   m[n].rpc, sizeof m[n].rpc))
            continue;
        voters += sv->role == RAFT_VOTER;
        if (sv->id == r->o.id) self = m[n].role;
        n++;
    }
    if (self < 0 && n > 0) self = -2;     /* a configuration without this node: removed */
    atomic_store_explicit(&r->self_role, self, memory_order_relaxed);
    atomic_store_explicit(&r->voters, voters, memory_order_relaxed);
    pthread_mutex_lock(&r->mu);
    if (n != r->n_members || memcmp(m, r->members, sizeof m)) {
        memcpy(r->members, m, sizeof m);
        r->n_members = n;
    }
    pthread_mutex_unlock(&r->mu);
}

static void refresh(rnode *r)
{
    raft_id id = 0;
    const char *addr = NULL;
    refresh_members(r);
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

/* ---- membership changes ---- */

static void change_unref(change_req *c)
{
    rnode *r = c->r;
    pthread_mutex_lock(&r->mu);
    int last = --c->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (last) free(c);
}

/* The loop's part of c ends: record the outcome and wake the caller. */
static void change_done(change_req *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void change_done(change_req *c, int rc, const char *fmt, ...)
{
    rnode *r = c->r;
    if (!rc) refresh_members(r);          /* the caller sees the new configuration */
    pthread_mutex_lock(&r->mu);
    c->done = 1;
    c->rc = rc;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, sizeof c->err, fmt, ap);
        va_end(ap);
    }
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    change_unref(c);
}

static const char *op_name(pel_change_op op)
{
    return op == PEL_CHANGE_ADD ? "add" : op == PEL_CHANGE_PROMOTE ? "promotion" : "removal";
}

static void on_changed(struct raft_change *req, int status)
{
    change_req *c = (change_req *)req;
    if (!status) {
        pel_log(PEL_LOG_INFO, "raft: membership %s of member %llu committed", op_name(c->op),
                (unsigned long long)c->id);
        change_done(c, 0, NULL);
    } else if (status == RAFT_LEADERSHIPLOST) {
        change_done(c, PEL_ENOTLEADER, "this node lost the leadership during the %s of member "
                    "%llu; the change may still take effect (see pel cluster status)",
                    op_name(c->op), (unsigned long long)c->id);
    } else if (status == RAFT_SHUTDOWN) {
        change_done(c, PEL_ESTOPPED, "the node is stopping");
    } else {
        pel_log(PEL_LOG_WARN, "raft: membership %s of member %llu failed: %s", op_name(c->op),
                (unsigned long long)c->id, raft_strerror(status));
        change_done(c, PEL_EIO, "%s of member %llu failed: %s%s", op_name(c->op),
                    (unsigned long long)c->id, raft_strerror(status),
                    c->op == PEL_CHANGE_PROMOTE ? " (the member did not catch up with the log: "
                    "is it running and reachable?)" : "");
    }
}

static const struct raft_server *server_of(const struct raft_configuration *conf, uint64_t id)
{
    for (unsigned i = 0; i < conf->n; i++)
        if (conf->servers[i].id == id) return &conf->servers[i];
    return NULL;
}

/* start_add returns this when it has ended c itself (a refusal): not a
 * RAFT_* code, which are all positive (RAFT_NOMEM is 1). */
#define ADD_REFUSED (-1)

/* ADD: the id (0: a random unused one) and the address, both unused.
 * @return raft_add's code, or ADD_REFUSED (c ended with change_done). */
static int start_add(rnode *r, change_req *c)
{
    const struct raft_configuration *conf = &r->raft.configuration;
    char addr[300], raft[128], rpc[128];
    if (conf->n >= PEL_CLUSTER_MAX) {
        change_done(c, PEL_EINVAL, "the cluster has %u members, the most there may be", conf->n);
        return ADD_REFUSED;
    }
    if (c->id == 0) {
        /* random, so that an id is never given twice: a removed member
         * started again by mistake cannot pass for a new one */
        uint64_t id;
        do id = 1 + (uint64_t)randombytes_uniform(0x7FFFFFFFu); while (server_of(conf, id));
        pthread_mutex_lock(&r->mu);           /* the waiting caller reads it */
        c->id = id;
        pthread_mutex_unlock(&r->mu);
    }
    if (server_of(conf, c->id)) {
        change_done(c, PEL_EEXIST, "member id %llu is taken", (unsigned long long)c->id);
        return ADD_REFUSED;
    }
    for (unsigned i = 0; i < conf->n; i++) {
        const char *a = conf->servers[i].address ? conf->servers[i].address : "";
        if (!pel_cluster_addr_parse(a, raft, sizeof raft, rpc, sizeof rpc) &&
            (!strcmp(raft, c->raft) || (rpc[0] && !strcmp(rpc, c->rpc)))) {
            change_done(c, PEL_EEXIST, "member %llu already has the address %s",
                        (unsigned long long)conf->servers[i].id, a);
            return ADD_REFUSED;
        }
    }
    int rc = pel_cluster_addr_format(c->raft, c->rpc, addr, sizeof addr);
    if (rc) {
        change_done(c, rc, "bad member address (raft \"%s\", rpc \"%s\")", c->raft, c->rpc);
        return ADD_REFUSED;
    }
    return raft_add(&r->raft, &c->req, c->id, addr, on_changed);
}

/* Start c on the loop thread; whatever happens, c's loop reference ends
 * in change_done (now, or from on_changed). */
static void start_change(rnode *r, change_req *c)
{
    const struct raft_configuration *conf = &r->raft.configuration;
    const struct raft_server *sv = c->op == PEL_CHANGE_ADD ? NULL : server_of(conf, c->id);
    int rc;
    if (r->closing || r->handing_off) { change_done(c, PEL_ESTOPPED, "the node is stopping"); return; }
    if (raft_state(&r->raft) != RAFT_LEADER) {
        change_done(c, PEL_ENOTLEADER, "this node is not the cluster leader");
        return;
    }
    if (c->op != PEL_CHANGE_ADD && !sv) {
        change_done(c, PEL_ENOTFOUND, "no member has id %llu", (unsigned long long)c->id);
        return;
    }
    c->req.data = c;
    switch (c->op) {
    case PEL_CHANGE_ADD:
        if ((rc = start_add(r, c)) == ADD_REFUSED) return;
        break;
    case PEL_CHANGE_PROMOTE:
        if (sv->role == RAFT_VOTER) { change_done(c, 0, NULL); return; }
        rc = raft_assign(&r->raft, &c->req, c->id, RAFT_VOTER, on_changed);
        break;
    default: {
        unsigned voters = 0;
        for (unsigned i = 0; i < conf->n; i++) voters += conf->servers[i].role == RAFT_VOTER;
        if (sv->role == RAFT_VOTER && voters == 1) {
            change_done(c, PEL_EINVAL, "member %llu is the last voter: removing it would leave "
                        "no cluster", (unsigned long long)c->id);
            return;
        }
        rc = raft_remove(&r->raft, &c->req, c->id, on_changed);
        break;
    }
    }
    if (rc == RAFT_CANTCHANGE)
        change_done(c, PEL_EBUSY, "another membership change is still in progress; retry");
    else if (rc == RAFT_NOTLEADER)
        change_done(c, PEL_ENOTLEADER, "this node is not the cluster leader");
    else if (rc)
        change_done(c, PEL_EIO, "%s of member %llu: %s (%s)", op_name(c->op),
                    (unsigned long long)c->id, raft_strerror(rc), raft_errmsg(&r->raft));
    else
        pel_log(PEL_LOG_INFO, "raft: membership %s of member %llu proposed", op_name(c->op),
                (unsigned long long)c->id);
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

static void on_handed_off(struct raft_transfer *req)
{
    rnode *r = req->data;
    raft_id id = 0;
    const char *addr = NULL;
    raft_leader(&r->raft, &id, &addr);
    pel_log(id && id != r->o.id ? PEL_LOG_INFO : PEL_LOG_WARN, "raft: leadership hand-off %s",
            id && id != r->o.id ? "done" : "timed out; asked again if still needed");
    req->data = NULL;
}

/* pel_order_hand_off on the loop thread: one transfer at a time, only a
 * leader, never while stopping (stop_loop has its own). */
static void start_hand_off(rnode *r)
{
    if (r->hand_off.data || r->handing_off || raft_state(&r->raft) != RAFT_LEADER) return;
    r->hand_off.data = r;
    int rc = raft_transfer(&r->raft, &r->hand_off, 0, on_handed_off);
    if (rc) {
        r->hand_off.data = NULL;
        pel_log(PEL_LOG_WARN, "raft: cannot hand the leadership off: %s", raft_strerror(rc));
    } else {
        pel_log(PEL_LOG_INFO, "raft: handing the leadership off");
    }
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
    change_req *changes = r->ch_head;
    int stop = r->stop_req, hand_off = r->hand_off_req;
    r->head = r->tail = NULL;
    r->ch_head = r->ch_tail = NULL;
    r->hand_off_req = 0;
    pthread_mutex_unlock(&r->mu);
    if (hand_off && !stop && !r->closing) start_hand_off(r);
    while (changes) {
        change_req *next = changes->next;
        if (stop || r->closing) change_done(changes, PEL_ESTOPPED, "the node is stopping");
        else start_change(r, changes);
        changes = next;
    }
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

/* A pristine log of a founding member gets the configuration of
 * opts.peers, all voters; a member added later (opts.join) starts empty
 * and learns the configuration from the leader. */
static int bootstrap(rnode *r)
{
    struct raft_configuration conf;
    char addr[300];
    if (r->o.join) return 0;
    raft_configuration_init(&conf);
    int rc = 0;
    for (unsigned i = 0; !rc && i < r->o.n_peers; i++) {
        rc = pel_cluster_addr_format(r->o.peers[i].raft, r->o.peers[i].rpc, addr, sizeof addr)
           ? RAFT_INVALID : raft_configuration_add(&conf, r->o.peers[i].id, addr, RAFT_VOTER);
    }
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

/* The transport dials the raft part of a member's address (order.h). */
static int connect_raft_part(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                             const char *address, raft_uv_connect_cb cb)
{
    rnode *r = (rnode *)((char *)t - offsetof(rnode, transport));
    char raft[128], rpc[160];
    if (pel_cluster_addr_parse(address, raft, sizeof raft, rpc, sizeof rpc)) return RAFT_NOCONNECTION;
    return r->tcp_connect(t, req, id, raft, cb);
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
    r->tcp_connect = r->transport.connect;
    r->transport.connect = connect_raft_part;
    if ((rc = raft_uv_tcp_set_bind_address(&r->transport, r->self_raft)) != 0) {
        snprintf(r->start_err, sizeof r->start_err, "raft address %s: %s (an IPv4 address and "
                 "port, like 127.0.0.1:8745)", r->self_raft, raft_strerror(rc));
        raft_uv_tcp_close(&r->transport);
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
    pthread_mutex_lock(&r->mu);
    r->running = 1;
    while (r->up == 0) pthread_cond_wait(&r->cond, &r->mu);
    int up = r->up;
    pthread_mutex_unlock(&r->mu);
    if (up > 0) {
        pel_log(PEL_LOG_INFO, "raft: node %llu on %s, %u peers, log in %s",
                (unsigned long long)r->o.id, r->self_addr, r->o.n_peers, r->o.dir);
        return 0;
    }
    pthread_join(r->thread, NULL);
    pthread_mutex_lock(&r->mu);
    r->running = 0;
    pthread_mutex_unlock(&r->mu);
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
    /* proposals queued after the loop drained its queue */
    pthread_mutex_lock(&r->mu);
    r->running = 0;
    proposal *list = r->head;
    change_req *changes = r->ch_head;
    r->head = r->tail = NULL;
    r->ch_head = r->ch_tail = NULL;
    pthread_mutex_unlock(&r->mu);
    while (list) {
        proposal *next = list->next;
        raft_free(list->buf.base);
        free(list);
        list = next;
    }
    while (changes) {
        change_req *next = changes->next;
        change_done(changes, PEL_ESTOPPED, "the node is stopping");
        changes = next;
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
    int self = atomic_load_explicit(&r->self_role, memory_order_relaxed);
    st->member = self == -2 ? "removed" : self < 0 ? "none" : pel_member_role_name(self);
    st->voters = atomic_load_explicit(&r->voters, memory_order_relaxed);
}

static void raft_hand_off_op(pel_order *o)
{
    rnode *r = (rnode *)o;
    if (!raft_is_leader_op(o)) return;
    pthread_mutex_lock(&r->mu);
    int go = r->running && !r->stop_req;
    if (go) r->hand_off_req = 1;
    pthread_mutex_unlock(&r->mu);
    if (go) uv_async_send(&r->async);
}

static unsigned raft_members_op(pel_order *o, pel_cluster_peer *out, unsigned max)
{
    rnode *r = (rnode *)o;
    pthread_mutex_lock(&r->mu);
    unsigned n = r->n_members < max ? r->n_members : max;
    memcpy(out, r->members, n * sizeof *out);
    pthread_mutex_unlock(&r->mu);
    return n;
}

static int raft_change_op(pel_order *o, pel_change_op op, uint64_t id, const char *raft,
                          const char *rpc, unsigned wait_ms, uint64_t *id_out, char *err,
                          size_t errlen)
{
    rnode *r = (rnode *)o;
    if (!raft_is_leader_op(o)) {
        snprintf(err, errlen, "this node is not the cluster leader");
        return PEL_ENOTLEADER;
    }
    if (op == PEL_CHANGE_ADD && (strlen(raft) >= 128 || strlen(rpc) >= 128)) {
        snprintf(err, errlen, "member address too long");
        return PEL_EINVAL;
    }
    change_req *c = calloc(1, sizeof *c);
    if (!c) return PEL_ENOMEM;
    c->op = op;
    c->id = id;
    c->r = r;
    c->refs = 2;
    snprintf(c->raft, sizeof c->raft, "%s", raft);
    snprintf(c->rpc, sizeof c->rpc, "%s", rpc);
    struct timespec until = pel_deadline_us((uint64_t)wait_ms * 1000);
    pthread_mutex_lock(&r->mu);
    if (r->stop_req || !r->running) {
        pthread_mutex_unlock(&r->mu);
        free(c);
        snprintf(err, errlen, "the node is stopping");
        return PEL_ESTOPPED;
    }
    if (r->ch_tail) r->ch_tail->next = c;
    else r->ch_head = c;
    r->ch_tail = c;
    pthread_mutex_unlock(&r->mu);
    uv_async_send(&r->async);
    pthread_mutex_lock(&r->mu);
    while (!c->done && pthread_cond_timedwait(&r->cond, &r->mu, &until) == 0) {}
    int rc = c->done ? c->rc : PEL_EPENDING;
    if (c->done) snprintf(err, errlen, "%s", c->err);
    else snprintf(err, errlen, "the %s of member %llu is proposed and not committed yet (a "
                  "promotion waits until the member has caught up); see pel cluster status",
                  op_name(op), (unsigned long long)c->id);
    *id_out = c->id;
    pthread_mutex_unlock(&r->mu);
    change_unref(c);
    return rc;
}

static const pel_order_ops raft_ops = {
    "raft", 0, raft_start_op, raft_stop_op, raft_free_op, raft_is_leader_op, raft_propose_op,
    raft_status_op, raft_hand_off_op, raft_members_op, raft_change_op,
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
    snprintf(r->self_raft, sizeof r->self_raft, "%s", self->raft);
    if (pel_cluster_addr_format(self->raft, self->rpc, r->self_addr, sizeof r->self_addr)) {
        snprintf(err, errlen, "cluster.peers: bad addresses for member %llu (raft \"%s\", rpc \"%s\")",
                 (unsigned long long)o->id, self->raft, self->rpc);
        free(r);
        return PEL_EINVAL;
    }
    atomic_init(&r->self_role, -1);
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;                  /* change waits use CLOCK_MONOTONIC deadlines */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    *out = &r->base;
    return 0;
}
