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

#include "core/clock.h"
#include "core/hex.h"
#include "core/log.h"
#include "rpc/client.h"

#define CALL_TIMEOUT_MS 700
#define PROMOTE_TIMEOUT_MS 15000     /* the leader waits up to 10 s for the catch-up */

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
    pel_rpc_client *promoter;    /* a joining member asking for its promotion */
    char promote_err[300];       /* the last refusal logged */
    int said_removed;
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

/* ---- the member list ---- */

/* The voters but this node, from the replicated configuration (or, before
 * this node has one, config.json's peers), each with its API address. */
static unsigned wanted_peers(pel_cluster_watch *w, peer *out, unsigned *voters)
{
    const pel_node_config *cfg = pel_node_cfg(w->n);
    pel_cluster_peer m[PEL_CLUSTER_MAX];
    unsigned k = pel_order_members(pel_node_order(w->n), m, PEL_CLUSTER_MAX), n = 0;
    if (k == 0) {
        k = cfg->n_peers < PEL_CLUSTER_MAX ? cfg->n_peers : PEL_CLUSTER_MAX;
        memcpy(m, cfg->peers, k * sizeof *m);
    }
    *voters = 0;
    for (unsigned i = 0; i < k; i++) {
        if (m[i].role != PEL_MEMBER_VOTER) continue;
        ++*voters;
        if (m[i].id == cfg->cluster_id) continue;
        memset(&out[n], 0, sizeof out[n]);
        out[n].id = m[i].id;
        if (m[i].rpc[0]) snprintf(out[n].rpc, sizeof out[n].rpc, "%s", m[i].rpc);
        else if (pel_node_member_rpc(w->n, m[i].id, out[n].rpc, sizeof out[n].rpc)) continue;
        n++;
    }
    return n;
}

/* Follow membership changes: keep the client of a peer still there. */
static void sync_peers(pel_cluster_watch *w)
{
    peer want[PEL_CLUSTER_MAX];
    unsigned voters, n = wanted_peers(w, want, &voters);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < w->n_peers; j++)
            if (w->peers[j].c && w->peers[j].id == want[i].id && !strcmp(w->peers[j].rpc, want[i].rpc)) {
                want[i].c = w->peers[j].c;
                want[i].last = w->peers[j].last;
                w->peers[j].c = NULL;
            }
    for (unsigned j = 0; j < w->n_peers; j++) {
        if (!w->peers[j].c) continue;
        pel_log(PEL_LOG_INFO, "cluster: member %" PRIu64 " (%s) is no longer a voter here",
                w->peers[j].id, w->peers[j].rpc);
        pel_rpc_client_free(w->peers[j].c);
    }
    unsigned kept = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!want[i].c) {
            char url[200];
            snprintf(url, sizeof url, "http://%s/rpc", want[i].rpc);
            if (pel_rpc_client_new(url, CALL_TIMEOUT_MS, &want[i].c)) continue;
        }
        w->peers[kept++] = want[i];
    }
    w->n_peers = kept;
    w->members = voters;
}

/* A member added by `pel cluster join` (cluster.join) asks the leader to
 * make it a voter until it is one; the leader answers once this node has
 * caught up with the log. A voter that finds itself out of the
 * configuration was removed: it says so, once. */
static void membership_round(pel_cluster_watch *w)
{
    const pel_node_config *cfg = pel_node_cfg(w->n);
    pel_order_status st;
    pel_order_get_status(pel_node_order(w->n), &st);
    int voter = st.member && !strcmp(st.member, "voter");
    int removed = st.member && !strcmp(st.member, "removed");
    if (removed && !w->said_removed)
        pel_log(PEL_LOG_ERROR, "cluster: this node (member %" PRIu64 ") was removed from the "
                "cluster: it gets no more blocks and its state is final here; stop it (its "
                "directory may be deleted)", cfg->cluster_id);
    w->said_removed = removed;
    if (removed) return;
    if (voter || !cfg->cluster_join) return;
    char hp[160], url[200];
    if (pel_node_leader_rpc(w->n, hp, sizeof hp) != 0) {       /* no leader known: any peer forwards */
        hp[0] = 0;
        for (unsigned i = 0; i < cfg->n_peers && !hp[0]; i++)
            if (cfg->peers[i].id != cfg->cluster_id) snprintf(hp, sizeof hp, "%s", cfg->peers[i].rpc);
        if (!hp[0]) return;
    }
    snprintf(url, sizeof url, "http://%s/rpc", hp);
    pel_rpc_client_free(w->promoter);
    w->promoter = NULL;
    if (pel_rpc_client_new(url, PROMOTE_TIMEOUT_MS, &w->promoter)) return;
    cJSON *params = cJSON_CreateObject(), *res = NULL;
    pel_rpc_error err;
    memset(&err, 0, sizeof err);
    cJSON_AddNumberToObject(params, "id", (double)cfg->cluster_id);
    cJSON_AddStringToObject(params, "token", cfg->admin_token);
    int rc = params ? pel_rpc_call(w->promoter, "cluster_promote", params, &res, &err) : PEL_ENOMEM;
    cJSON_Delete(params);
    cJSON_Delete(res);
    if (rc == PEL_EREMOTE) cJSON_Delete(err.data);
    if (!rc) {
        pel_log(PEL_LOG_INFO, "cluster: this node (member %" PRIu64 ") is now a voter", cfg->cluster_id);
        w->promote_err[0] = 0;
        return;
    }
    char why[300];
    snprintf(why, sizeof why, "%s", rc == PEL_EREMOTE ? err.message : pel_strerror(rc));
    if (strcmp(why, w->promote_err))
        pel_log(PEL_LOG_INFO, "cluster: waiting to become a voter (asked %s): %s", hp, why);
    snprintf(w->promote_err, sizeof w->promote_err, "%s", why);
}

static void round_once(pel_cluster_watch *w)
{
    membership_round(w);
    sync_peers(w);
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
    /* a diverged node must not lead: it cuts no blocks, so the cluster
     * would stall until an election; every round it leads, it hands off */
    if (pel_node_diverged(w->n, NULL) && pel_order_is_leader(pel_node_order(w->n)))
        pel_order_hand_off(pel_node_order(w->n));
}

/* ---- the thread ---- */

static int wait_period(pel_cluster_watch *w)
{
    struct timespec ts = pel_deadline_us((uint64_t)w->period_ms * 1000);
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
    pel_rpc_client_free(w->promoter);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w);
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
    sync_peers(w);
    int rc = 0;
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) rc = PEL_ENOMEM;
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
