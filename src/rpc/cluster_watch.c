/*
 * cluster_watch.c - compare this node's signed checkpoints with its raft
 * peers' and mark the node diverged when the majority signs another state
 * root (cluster_watch.h). One thread, one RPC client per peer; a round
 * costs one or two small calls per peer.
 */
#include "rpc/cluster_watch.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hex.h"
#include "core/log.h"
#include "rpc/client.h"

#define CALL_TIMEOUT_MS 700

typedef struct peer {
    uint64_t id;
    char rpc[160];
    pel_rpc_client *c;
    pel_peer_verdict last;       /* for logging changes only */
} peer;

struct pel_cluster_watch {
    pel_node *n;
    unsigned period_ms;
    peer peers[PEL_CLUSTER_MAX];
    unsigned n_peers, members;
    pthread_t thread;
    pthread_mutex_t mu;          /* guards stop */
    pthread_cond_t cond;
    int stop;
};

/* ---- the verdict ---- */

int pel_cluster_judge(const pel_peer_vote *votes, unsigned n, unsigned members,
                      pel_node_divergence *out)
{
    unsigned disagree = 0;
    const pel_peer_vote *low = NULL;
    for (unsigned i = 0; i < n; i++) {
        if (votes[i].verdict != PEL_PEER_DISAGREE) continue;
        disagree++;
        if (!low || votes[i].height < low->height) low = &votes[i];
    }
    if (disagree <= members / 2) return 0;
    memset(out, 0, sizeof *out);
    out->height = low->height;
    memcpy(out->root, low->ours, 32);
    memcpy(out->majority_root, low->theirs, 32);
    out->disagree = disagree;
    out->members = members;
    return 1;
}

int pel_cluster_root_of_note(const char *note, uint8_t root[32])
{
    const char *p = strstr(note, "\nstate-root ");
    size_t got = 0;
    if (!p) return PEL_ECORRUPT;
    p += strlen("\nstate-root ");
    if (strlen(p) < 64 || pel_hex_decode(p, 64, root, 32, &got) || got != 32) return PEL_ECORRUPT;
    return 0;
}

/* ---- one round ---- */

/* Our state root after block `height` (head: from the head; else from our
 * stored checkpoint). */
static int our_root(pel_node *n, const pel_chain_head *head, uint64_t height, uint8_t root[32])
{
    if (height == head->height) { memcpy(root, head->state_root, 32); return 0; }
    pel_buf note;
    pel_buf_init(&note);
    int rc = pel_chain_checkpoint(pel_node_chain(n), height, &note);
    if (!rc) rc = pel_buf_append(&note, "", 1);
    if (!rc) rc = pel_cluster_root_of_note((const char *)note.data, root);
    pel_buf_free(&note);
    return rc;
}

static int hex32(const cJSON *s, uint8_t out[32])
{
    size_t got = 0;
    if (!cJSON_IsString(s) || strlen(s->valuestring) != 64) return PEL_ECORRUPT;
    return pel_hex_decode(s->valuestring, 64, out, 32, &got) || got != 32 ? PEL_ECORRUPT : 0;
}

/* The peer's state root after block `height` (its `checkpoint` method). */
static int their_checkpoint_root(peer *p, uint64_t height, uint8_t root[32])
{
    cJSON *params = cJSON_CreateObject(), *res = NULL;
    pel_rpc_error err;
    if (!params) return PEL_ENOMEM;
    cJSON_AddNumberToObject(params, "height", (double)height);
    int rc = pel_rpc_call(p->c, "checkpoint", params, &res, &err);
    cJSON_Delete(params);
    if (rc == PEL_EREMOTE) cJSON_Delete(err.data);
    const cJSON *note = rc ? NULL : cJSON_GetObjectItemCaseSensitive(res, "note");
    if (!rc) rc = cJSON_IsString(note) ? pel_cluster_root_of_note(note->valuestring, root) : PEL_ECORRUPT;
    cJSON_Delete(res);
    return rc;
}

/* Compare with one peer at the lower of the two heads. */
static void vote_of(pel_cluster_watch *w, peer *p, const pel_chain_head *head, pel_peer_vote *v)
{
    cJSON *info = NULL;
    pel_rpc_error err;
    memset(v, 0, sizeof *v);
    int rc = pel_rpc_call(p->c, "node_info", NULL, &info, &err);
    if (rc == PEL_EREMOTE) cJSON_Delete(err.data);
    const cJSON *h = rc ? NULL : cJSON_GetObjectItemCaseSensitive(info, "height");
    if (!cJSON_IsNumber(h) || h->valuedouble < 0) { cJSON_Delete(info); return; }
    uint64_t theirs = (uint64_t)h->valuedouble;
    v->height = theirs < head->height ? theirs : head->height;
    rc = theirs == v->height ? hex32(cJSON_GetObjectItemCaseSensitive(info, "state_root"), v->theirs)
                             : their_checkpoint_root(p, v->height, v->theirs);
    cJSON_Delete(info);
    if (!rc) rc = our_root(w->n, head, v->height, v->ours);
    if (rc) return;
    v->verdict = memcmp(v->ours, v->theirs, 32) ? PEL_PEER_DISAGREE : PEL_PEER_AGREE;
}

static void log_peer(peer *p, const pel_peer_vote *v)
{
    if (v->verdict == p->last || v->verdict == PEL_PEER_UNKNOWN) return;
    p->last = v->verdict;
    char a[65], b[65];
    pel_hex_encode(v->ours, 32, a);
    pel_hex_encode(v->theirs, 32, b);
    if (v->verdict == PEL_PEER_DISAGREE)
        pel_log(PEL_LOG_WARN, "cluster: member %" PRIu64 " (%s) signs state root %.16s at height %"
                PRIu64 ", this node %.16s", p->id, p->rpc, b, v->height, a);
    else
        pel_log(PEL_LOG_INFO, "cluster: member %" PRIu64 " agrees at height %" PRIu64, p->id, v->height);
}

static void report(pel_cluster_watch *w, const pel_node_divergence *d)
{
    char a[65], b[65];
    pel_hex_encode(d->root, 32, a);
    pel_hex_encode(d->majority_root, 32, b);
    pel_log(PEL_LOG_ERROR, "cluster: DIVERGED at height %" PRIu64 ": this node's state root is %s, "
            "%u of %u members sign %s; this node stops taking submissions and proposing "
            "(restore its store from a healthy member)", d->height, a, d->disagree, d->members, b);
    pel_node_set_diverged(w->n, d);
}

/* Transactions this node accepted as leader and never proposed go to the
 * leader now (a deposed leader would otherwise hold them, and their
 * senders' later nonces, forever). One batch per round; those the leader
 * refuses (already committed, say) are dropped with a note in the log. */
enum { STRANDED_MAX = 1024 };

static void hand_over_stranded(pel_cluster_watch *w)
{
    char hp[160];
    if (pel_node_leader_rpc(w->n, hp, sizeof hp) != 0) return;      /* we lead, or no leader yet */
    peer *to = NULL;
    for (unsigned i = 0; i < w->n_peers; i++)
        if (!strcmp(w->peers[i].rpc, hp)) to = &w->peers[i];
    if (!to) return;
    uint8_t **raw = malloc(STRANDED_MAX * sizeof *raw);
    size_t *len = malloc(STRANDED_MAX * sizeof *len);
    size_t k = raw && len ? pel_node_take_stranded(w->n, STRANDED_MAX, raw, len) : 0;
    cJSON *params = k ? cJSON_CreateObject() : NULL, *txs = params ? cJSON_AddArrayToObject(params, "txs") : NULL;
    for (size_t i = 0; i < k; i++) {
        char *hex = txs ? malloc(2 * len[i] + 1) : NULL;
        if (hex) {
            pel_hex_encode(raw[i], len[i], hex);
            cJSON_AddItemToArray(txs, cJSON_CreateString(hex));
        }
        free(hex);
        free(raw[i]);
    }
    if (k) {
        cJSON *res = NULL;
        pel_rpc_error err;
        int rc = txs ? pel_rpc_call(to->c, "submit_batch", params, &res, &err) : PEL_ENOMEM;
        if (rc == PEL_EREMOTE) cJSON_Delete(err.data);
        size_t ok = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(res, "results"))
            ok += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
        pel_log(rc ? PEL_LOG_WARN : PEL_LOG_INFO, "cluster: handed %zu transaction(s) left from this node's "
                "time as leader to the leader %s: %zu accepted%s%s", k, hp, ok, rc ? ", " : "",
                rc ? pel_strerror(rc) : "");
        cJSON_Delete(res);
    }
    cJSON_Delete(params);
    free(raw);
    free(len);
}

static void round_once(pel_cluster_watch *w)
{
    hand_over_stranded(w);
    pel_peer_vote votes[PEL_CLUSTER_MAX];
    pel_chain_head head = pel_chain_get_head(pel_node_chain(w->n));
    for (unsigned i = 0; i < w->n_peers; i++) {
        vote_of(w, &w->peers[i], &head, &votes[i]);
        log_peer(&w->peers[i], &votes[i]);
    }
    pel_node_divergence d;
    if (!pel_node_diverged(w->n, NULL) && pel_cluster_judge(votes, w->n_peers, w->members, &d))
        report(w, &d);
}

/* ---- the thread ---- */

static int wait_period(pel_cluster_watch *w)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += w->period_ms / 1000;
    ts.tv_nsec += (long)(w->period_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    pthread_mutex_lock(&w->mu);
    while (!w->stop && pthread_cond_timedwait(&w->cond, &w->mu, &ts) == 0) {}
    int stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

static void *watch_main(void *arg)
{
    pel_cluster_watch *w = arg;
    while (!wait_period(w)) round_once(w);
    return NULL;
}

static void watch_free(pel_cluster_watch *w)
{
    for (unsigned i = 0; i < w->n_peers; i++) pel_rpc_client_free(w->peers[i].c);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* The peers but this node, each with a client. */
static int add_peers(pel_cluster_watch *w, const pel_node_config *cfg)
{
    for (unsigned i = 0; i < cfg->n_peers && i < PEL_CLUSTER_MAX; i++) {
        if (cfg->peers[i].id == cfg->cluster_id) continue;
        peer *p = &w->peers[w->n_peers];
        p->id = cfg->peers[i].id;
        snprintf(p->rpc, sizeof p->rpc, "%s", cfg->peers[i].rpc);
        char url[200];
        snprintf(url, sizeof url, "http://%s/rpc", p->rpc);
        int rc = pel_rpc_client_new(url, CALL_TIMEOUT_MS, &p->c);
        if (rc) return rc;
        w->n_peers++;
    }
    w->members = cfg->n_peers;
    return 0;
}

int pel_cluster_watch_start(pel_node *n, unsigned period_ms, pel_cluster_watch **out)
{
    const pel_node_config *cfg = pel_node_cfg(n);
    *out = NULL;
    if (!cfg->ordering_raft) return 0;
    pel_cluster_watch *w = calloc(1, sizeof *w);
    if (!w) return PEL_ENOMEM;
    w->n = n;
    w->period_ms = period_ms ? period_ms : 1000;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    int rc = add_peers(w, cfg);
    if (!rc && pthread_create(&w->thread, NULL, watch_main, w) != 0) rc = PEL_ENOMEM;
    if (rc) { watch_free(w); return rc; }
    *out = w;
    return 0;
}

void pel_cluster_watch_stop(pel_cluster_watch *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    watch_free(w);
}
