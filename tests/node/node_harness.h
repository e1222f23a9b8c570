/*
 * node_harness.h - start and stop a real `pel node` process for the
 * end-to-end and crash tests: a temporary node directory, a free port, a
 * JSON-RPC client, and signing transfers with the library.
 *
 * The node binary is the `pel` of the same build as the test binary
 * (build/pel for build/tests/..., build/asan/pel for build/asan/tests/...),
 * found from argv[0].
 */
#ifndef PEL_NODE_HARNESS_H
#define PEL_NODE_HARNESS_H

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/hex.h"
#include "core/keyfile.h"
#include "ledger/genesis.h"
#include "ledger/ledger.h"
#include "ledger/tx.h"
#include "node/config.h"
#include "rpc/client.h"

typedef struct harness {
    char bin[4096];      /* the pel binary */
    char dir[256];       /* node directory */
    char url[128];
    uint16_t port;
    pid_t pid;
    pel_rpc_client *rpc;
    char chain_id[PEL_CHAIN_ID_MAX + 1];
    pel_gas_schedule gas;
} harness;

static inline double h_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void h_sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* h_kernel_port - the kernel's pick for port 0 on loopback, released at
 * once (0 on failure). */
static inline uint16_t h_kernel_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uint16_t port = 0;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0) close(s);
    return port;
}

/* A port nobody listens on right now, and not one this process was given
 * before: the kernel may hand the same free port out again once it is
 * released, and a test that picks several ports before binding any (a
 * cluster's members) must not get two alike (test_order_raft did, once). */
static inline uint16_t h_free_port(void)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static uint16_t given[512];
    static unsigned ngiven;
    pthread_mutex_lock(&mu);
    uint16_t port = 0;
    for (int tries = 0; tries < 100 && !port; tries++) {
        port = h_kernel_port();
        for (unsigned i = 0; port && i < ngiven; i++)
            if (given[i] == port) port = 0;
    }
    if (port && ngiven < sizeof given / sizeof given[0]) given[ngiven++] = port;
    pthread_mutex_unlock(&mu);
    return port;
}

/* The pel binary next to this test's build directory. */
static inline void h_find_bin(harness *h, const char *argv0)
{
    const char *cut = strstr(argv0, "/tests/");
    if (cut) snprintf(h->bin, sizeof h->bin, "%.*s/pel", (int)(cut - argv0), argv0);
    else snprintf(h->bin, sizeof h->bin, "build/pel");
}

/* Create a node directory (faucet-funded devnet) on a free port. */
static inline int h_init(harness *h, const char *argv0, const char *chain_id)
{
    char err[512];
    memset(h, 0, sizeof *h);
    h->pid = -1;
    h_find_bin(h, argv0);
    snprintf(h->dir, sizeof h->dir, "/tmp/pel-test-XXXXXX");
    if (!mkdtemp(h->dir)) return -1;
    h->port = h_free_port();
    snprintf(h->url, sizeof h->url, "http://127.0.0.1:%u/rpc", h->port);
    snprintf(h->chain_id, sizeof h->chain_id, "%s", chain_id);
    h->gas = pel_gas_defaults();
    if (pel_node_init_dir(h->dir, chain_id, 1000000000000000ull, h->port, err, sizeof err)) {
        fprintf(stderr, "init: %s\n", err);
        return -1;
    }
    return pel_rpc_client_new(h->url, 5000, &h->rpc);
}

/* Start `pel node` (output appended to dir/node.log); extra args allowed. */
static inline int h_start(harness *h, const char *const *extra)
{
    char log[300];
    snprintf(log, sizeof log, "%s/node.log", h->dir);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); close(fd); }
        const char *args[32] = { h->bin, "node", "--dir", h->dir, "--block-interval-ms", "50" };
        int n = 6;
        for (int i = 0; extra && extra[i] && n < 31; i++) args[n++] = extra[i];
        args[n] = NULL;
        execv(h->bin, (char *const *)args);
        _exit(127);
    }
    h->pid = pid;
    return 0;
}

/* Wait until node_info answers (up to `secs`). Returns 0 when ready. */
static inline int h_wait_ready(harness *h, double secs)
{
    double end = h_now() + secs;
    while (h_now() < end) {
        cJSON *res = NULL;
        if (pel_rpc_call(h->rpc, "node_info", NULL, &res, NULL) == 0) { cJSON_Delete(res); return 0; }
        int st;
        if (h->pid > 0 && waitpid(h->pid, &st, WNOHANG) == h->pid) { h->pid = -1; return -1; }
        h_sleep_ms(20);
    }
    return -1;
}

/* Stop the node with `sig` and reap it; returns its exit status (or 128+sig). */
static inline int h_stop(harness *h, int sig)
{
    int st = 0;
    if (h->pid <= 0) return -1;
    kill(h->pid, sig);
    waitpid(h->pid, &st, 0);
    h->pid = -1;
    pel_rpc_client_free(h->rpc);                      /* drop the kept-alive connection */
    if (pel_rpc_client_new(h->url, 5000, &h->rpc)) h->rpc = NULL;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run a pel command (no shell); returns its exit status. out (optional)
 * gets up to cap-1 bytes of stdout. */
static inline int h_run(const harness *h, char *out, size_t cap, const char *const *args)
{
    int p[2];
    if (pipe(p)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]); close(p[1]);
        const char *a[40] = { h->bin };
        int n = 1;
        for (int i = 0; args[i] && n < 39; i++) a[n++] = args[i];
        a[n] = NULL;
        execv(h->bin, (char *const *)a);
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    char tmp[4096];
    ssize_t r;
    while ((r = read(p[0], tmp, sizeof tmp)) > 0)
        for (ssize_t i = 0; i < r; i++)
            if (out && len + 1 < cap) out[len++] = tmp[i];
    if (out && cap) out[len] = 0;
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Remove a directory tree; 0, or -1 after saying so. */
static inline int h_rm_rf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) == 0) return 0;
    fprintf(stderr, "could not remove %s\n", dir);
    return -1;
}

/* A test's temporary tree at its end: kept (and named) when a check failed
 * or PEL_TEST_KEEP is set, else removed. */
static inline void h_keep_or_remove(const char *dir, int failed)
{
    if (failed || getenv("PEL_TEST_KEEP")) fprintf(stderr, "logs kept in %s\n", dir);
    else h_rm_rf(dir);
}

static inline void h_cleanup(harness *h)
{
    if (h->pid > 0) h_stop(h, SIGKILL);
    pel_rpc_client_free(h->rpc);
    h->rpc = NULL;
    h_rm_rf(h->dir);
}

/* A test key from a small number. */
typedef struct h_key { uint8_t pk[32], sk[64]; pel_addr addr; } h_key;

static inline void h_key_make(h_key *k, uint32_t i)
{
    uint8_t seed[32];
    char tag[32];
    snprintf(tag, sizeof tag, "%u", i);
    if (pel_hash_tagged("PEL/test-key", tag, strlen(tag), seed)) memset(seed, (int)i, 32);
    if (pel_sign_seed_keypair(k->pk, k->sk, seed)) memset(k, 0, sizeof *k);
    pel_addr_from_pubkey(k->pk, &k->addr);
}

/* Sign a transfer into hex (out must hold 2 * PEL_TX_SIZE_MAX + 1). */
static inline int h_sign_transfer(const harness *h, const h_key *from, const pel_addr *to,
                                  uint64_t amount, uint64_t nonce, char *hex, uint8_t id[32])
{
    uint8_t body[PEL_TRANSFER_BODY_LEN];
    pel_tx tx;
    pel_buf b;
    memset(&tx, 0, sizeof tx);
    pel_transfer_body(to, amount, body);
    tx.chain_id = (const uint8_t *)h->chain_id;
    tx.chain_id_len = (uint32_t)strlen(h->chain_id);
    tx.nonce = nonce;
    tx.gas_limit = 10000;
    tx.gas_price = 1;
    tx.type = PEL_TX_TRANSFER;
    tx.body = body;
    tx.body_len = sizeof body;
    pel_buf_init(&b);
    int rc = pel_tx_sign(&tx, from->sk, &b);
    if (!rc) pel_hex_encode(b.data, b.len, hex);
    if (!rc && id) memcpy(id, tx.id, 32);
    pel_buf_free(&b);
    return rc;
}

/* JSON helpers */
static inline cJSON *h_call(harness *h, const char *method, cJSON *params)
{
    cJSON *res = NULL;
    pel_rpc_error err;
    int rc = pel_rpc_call(h->rpc, method, params, &res, &err);
    cJSON_Delete(params);
    if (rc) {
        if (err.data) cJSON_Delete(err.data);
        return NULL;
    }
    return res;
}

static inline double h_num(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(it) ? it->valuedouble : -1;
}

static inline const char *h_str(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(it) ? it->valuestring : "";
}

static inline cJSON *h_addr_params(const pel_addr *a)
{
    char s[PEL_ADDR_STR_LEN + 1];
    pel_addr_format(a, s);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "address", s);
    return p;
}

/* The tx_status answer for id (NULL on an RPC failure). */
static inline cJSON *h_tx_status(harness *h, const uint8_t id[32])
{
    char hex[65];
    pel_hex_encode(id, 32, hex);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "id", hex);
    return h_call(h, "tx_status", p);
}

/* Wait until transaction id is committed: 0, or -1 after secs. */
static inline int h_wait_committed(harness *h, const uint8_t id[32], double secs)
{
    double end = h_now() + secs;
    while (h_now() < end) {
        cJSON *s = h_tx_status(h, id);
        int done = s && !strcmp(h_str(s, "status"), "committed");
        cJSON_Delete(s);
        if (done) return 0;
        h_sleep_ms(20);
    }
    return -1;
}

#endif
