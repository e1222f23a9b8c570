/*
 * client.c - `pel keygen`, `pel account`, `pel tx`, `pel block` and
 * `pel faucet`: the command-line client of the node's JSON-RPC API
 * (docs/API.md), plus the helpers loadgen.c shares (client.h).
 *
 * Every command is a thin client: it parses options, makes one or a few
 * calls, and prints the result either as aligned "key value" lines (stable,
 * documented in each --help) or, with --json, the result exactly as the
 * node returned it. Failures are one line on stderr and exit status 1;
 * usage errors exit 2.
 */
#include "cli/client.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/hex.h"
#include "core/keyfile.h"

#define CALL_TIMEOUT_MS 15000
#define WAIT_POLL_MS 100
#define KEYW "%-14s"          /* width of the key column in text output */

/* ---------------------------------------------------------------------
 * Option parsing (cli.h), shared by every command
 * ------------------------------------------------------------------- */

static const pel_cli_opt *find_opt(const pel_cli_cmd *cmd, const char *name)
{
    for (size_t k = 0; k < cmd->n_opts; k++)
        if (!strcmp(name, cmd->opts[k].name)) return &cmd->opts[k];
    return NULL;
}

static int usage_error(const pel_cli_cmd *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "%s: %s '%s'\n", cmd->who, what, arg);
    if (cmd->usage) cmd->usage(stderr);
    return 2;
}

/* take - store the value of option o. @return 0, or 2 after printing. */
static int take(const pel_cli_cmd *cmd, const pel_cli_opt *o, const char *v)
{
    if (!o->n) { *o->val = v; return 0; }
    if (*o->n == o->max) {
        fprintf(stderr, "%s: at most %d %s\n", cmd->who, o->max, o->what);
        return 2;
    }
    o->val[(*o->n)++] = v;
    return 0;
}

int pel_cli_parse(const pel_cli_cmd *cmd, int argc, char **argv,
                  const char **pos, int max_pos, int *n_pos)
{
    int only_operands = 0;
    *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_operands || a[0] != '-' || !a[1]) {
            if (*n_pos == max_pos) return usage_error(cmd, "unexpected argument", a);
            pos[(*n_pos)++] = a;
            continue;
        }
        if (!strcmp(a, "--")) { only_operands = 1; continue; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            if (cmd->usage) cmd->usage(stdout);
            return 1;
        }
        const pel_cli_opt *o = find_opt(cmd, a);
        if (!o) return usage_error(cmd, "unknown option", a);
        if (o->flag) { *o->flag = 1; continue; }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: %s needs a value\n", cmd->who, a);
            return 2;
        }
        if (take(cmd, o, argv[++i])) return 2;
    }
    return 0;
}

/* parse_opts - pel_cli_parse for the commands of this file (messages
 * start with "pel"). */
static int parse_opts(int argc, char **argv, const pel_cli_opt *s, size_t n,
                      const char **pos, int maxpos, int *npos, void (*usage)(FILE *f))
{
    const pel_cli_cmd cmd = { "pel", usage, s, n };
    return pel_cli_parse(&cmd, argc, argv, pos, maxpos, npos);
}

/* skip_self - accept being called with our own name in argv[0]. */
static void skip_self(int *argc, char ***argv, const char *name)
{
    if (*argc > 0 && !strcmp((*argv)[0], name)) { (*argc)--; (*argv)++; }
}

static int is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "help");
}

/* opt_u64 - parse an optional numeric option; absent keeps *out. */
static int opt_u64(const char *name, const char *v, unsigned long long min,
                   unsigned long long max, uint64_t *out)
{
    unsigned long long x;
    if (!v) return 0;
    if (pel_cli_u64(name, v, min, max, &x)) return -1;
    *out = x;
    return 0;
}

/* ---------------------------------------------------------------------
 * Shared helpers (client.h)
 * ------------------------------------------------------------------- */

double pel_cli_now(void) { return pel_mono_s(); }

const char *pel_cli_rpc_url(const char *opt)
{
    const char *env = getenv("PEL_RPC");
    if (opt) return opt;
    return env && *env ? env : PEL_CLI_DEFAULT_RPC;
}

int pel_cli_connect(const char *url, unsigned timeout_ms, pel_rpc_client **out)
{
    int rc = pel_rpc_client_new(url, timeout_ms, out);
    if (rc == 0) return 0;
    fprintf(stderr, "pel: cannot use the node URL '%s': %s\n", url, pel_strerror(rc));
    return -1;
}

/* after_url - if msg is prefix + url + ": " + detail, the detail. */
static const char *after_url(const char *msg, const char *prefix, const char *url)
{
    size_t pl = strlen(prefix), ul = strlen(url);
    if (strncmp(msg, prefix, pl) || strncmp(msg + pl, url, ul) || strncmp(msg + pl + ul, ": ", 2))
        return NULL;
    return msg + pl + ul + 2;
}

void pel_cli_print_rpc_error(pel_rpc_client *c, int rc, const pel_rpc_error *err,
                             const char *what)
{
    const char *url = pel_rpc_client_url(c), *detail;
    if (rc == PEL_EREMOTE) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(err->data, "pel_code");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(err->data, "name");
        if (cJSON_IsNumber(code) && cJSON_IsString(name))
            fprintf(stderr, "pel: %s: %s (%s, code %d)\n", what, err->message,
                    name->valuestring, code->valueint);
        else
            fprintf(stderr, "pel: %s: %s (rpc error %d)\n", what, err->message, err->code);
    } else if (rc == PEL_EIO && ((detail = after_url(err->message, "cannot connect to ", url))
                                 || (detail = after_url(err->message, "calling ", url)))) {
        fprintf(stderr, "pel: cannot connect to the node at %s: %s\n", url, detail);
    } else if (rc == PEL_EIO) {
        fprintf(stderr, "pel: %s\n", err->message);
    } else {
        fprintf(stderr, "pel: %s: %s\n", what, pel_strerror(rc));
    }
}

int pel_cli_call(pel_rpc_client *c, const char *method, const cJSON *params,
                 cJSON **result, const char *what)
{
    pel_rpc_error err;
    int rc = pel_rpc_call(c, method, params, result, &err);
    if (rc == 0) return 0;
    pel_cli_print_rpc_error(c, rc, &err, what ? what : method);
    cJSON_Delete(err.data);
    return -1;
}

int pel_cli_json_u64(const cJSON *obj, const char *key, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        char *end;
        if (*s < '0' || *s > '9') return -1;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (errno || *end) return -1;
        *out = x;
        return 0;
    }
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 18446744073709551616.0
        && floor(v->valuedouble) == v->valuedouble) {
        *out = (uint64_t)v->valuedouble;
        return 0;
    }
    return -1;
}

static int read_node_info(const cJSON *r, pel_cli_chain *out)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "chain_id");
    const cJSON *gas = cJSON_GetObjectItemCaseSensitive(r, "gas");
    if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > PEL_CHAIN_ID_MAX)
        return -1;
    strcpy(out->chain_id, id->valuestring);
    if (pel_cli_json_u64(gas, "base", &out->gas.base)
        || pel_cli_json_u64(gas, "per_byte", &out->gas.per_byte)
        || pel_cli_json_u64(r, "min_gas_price", &out->min_gas_price)
        || pel_cli_json_u64(r, "height", &out->height))
        return -1;
    return 0;
}

int pel_cli_node_info(pel_rpc_client *c, pel_cli_chain *out)
{
    cJSON *r;
    memset(out, 0, sizeof *out);
    if (pel_cli_call(c, "node_info", NULL, &r, NULL)) return -1;
    int rc = read_node_info(r, out);
    if (rc) fprintf(stderr, "pel: node_info: unexpected reply from %s\n", pel_rpc_client_url(c));
    cJSON_Delete(r);
    return rc;
}

int pel_cli_next_nonce(pel_rpc_client *c, const pel_addr *addr, uint64_t *nonce,
                       uint64_t *balance)
{
    char text[PEL_ADDR_STR_LEN + 1];
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    int rc = -1;
    pel_addr_format(addr, text);
    if (!p || !cJSON_AddStringToObject(p, "address", text)) goto out;
    if (pel_cli_call(c, "account", p, &r, NULL)) goto out;
    if (pel_cli_json_u64(r, "next_nonce", nonce)
        || (balance && pel_cli_json_u64(r, "balance", balance))) {
        fprintf(stderr, "pel: account: unexpected reply from %s\n", pel_rpc_client_url(c));
        goto out;
    }
    rc = 0;
out:
    if (rc && !p) fprintf(stderr, "pel: out of memory\n");
    cJSON_Delete(p);
    cJSON_Delete(r);
    return rc;
}

int pel_cli_parse_addr(const char *what, const char *s, pel_addr *out)
{
    const char *why = NULL;
    if (pel_addr_parse(s, out, &why) == 0) return 0;
    fprintf(stderr, "pel: %s: %s: '%s'\n", what, why ? why : "invalid address", s);
    return -1;
}

/* sort_keys - sort k[0..*n) ascending and drop duplicates (tiny lists). */
static void sort_keys(pel_key *k, uint32_t *n)
{
    for (uint32_t i = 1; i < *n; i++)
        for (uint32_t j = i; j > 0 && pel_key_cmp(&k[j - 1], &k[j]) > 0; j--) {
            pel_key t = k[j];
            k[j] = k[j - 1];
            k[j - 1] = t;
        }
    uint32_t w = 0;
    for (uint32_t i = 0; i < *n; i++)
        if (w == 0 || !pel_key_eq(&k[w - 1], &k[i])) k[w++] = k[i];
    *n = w;
}

int pel_cli_sign_transfer(const pel_cli_transfer *t, const uint8_t sk[PEL_SECKEY_LEN],
                          pel_buf *out, pel_tx *tx)
{
    uint8_t body[PEL_TRANSFER_BODY_LEN];
    pel_key writes[1], deltas[3];
    pel_addr from;
    size_t start = out->len;
    uint32_t nd = 3;
    memset(tx, 0, sizeof *tx);
    pel_transfer_body(&t->to, t->amount, body);
    pel_addr_from_pubkey(sk + PEL_SEED_LEN, &from);   /* sk = seed ‖ public key */
    pel_key_nonce(&from, &writes[0]);
    pel_key_balance(&from, &deltas[0]);
    pel_key_balance(&t->to, &deltas[1]);
    pel_key_fee_pool(&deltas[2]);
    sort_keys(deltas, &nd);
    tx->chain_id = (const uint8_t *)t->chain->chain_id;
    tx->chain_id_len = (uint32_t)strlen(t->chain->chain_id);
    tx->nonce = t->nonce;
    tx->gas_price = t->gas_price;
    tx->gas_limit = t->gas_limit;
    tx->expiry_height = t->expiry_height;
    tx->type = PEL_TX_TRANSFER;
    tx->body = body;
    tx->body_len = sizeof body;
    tx->has_access = t->declare;
    tx->access = (pel_access){ NULL, 0, writes, 1, deltas, nd };
    int rc = pel_tx_sign(tx, sk, out);
    if (rc == 0 && t->gas_limit == 0) {   /* the size does not depend on the limit */
        out->len = start;
        tx->gas_limit = pel_intrinsic_gas(&t->chain->gas, tx->size) + PEL_CLI_GAS_MARGIN;
        rc = pel_tx_sign(tx, sk, out);
    }
    if (rc) out->len = start;
    tx->chain_id = NULL;
    tx->body = NULL;
    tx->access = (pel_access){ 0 };
    return rc;
}

/* ---------------------------------------------------------------------
 * Printing
 * ------------------------------------------------------------------- */

static void print_scalar(const cJSON *v)
{
    if (cJSON_IsString(v)) fputs(v->valuestring, stdout);
    else if (cJSON_IsNumber(v) && floor(v->valuedouble) == v->valuedouble
             && fabs(v->valuedouble) < 1e18)
        printf("%.0f", v->valuedouble);
    else if (cJSON_IsNumber(v)) printf("%g", v->valuedouble);
    else if (cJSON_IsBool(v)) fputs(cJSON_IsTrue(v) ? "true" : "false", stdout);
    else {
        char *s = cJSON_PrintUnformatted(v);
        fputs(s ? s : "?", stdout);
        free(s);
    }
}

/* field - "key   value" if obj has key (label defaults to key). */
static void field(const cJSON *obj, const char *key, const char *label)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return;
    printf(KEYW, label ? label : key);
    print_scalar(v);
    putchar('\n');
}

/* print_json - the value on one line, as the node sent it. */
static int print_json(const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);
    if (!s) { fprintf(stderr, "pel: out of memory\n"); return -1; }
    puts(s);
    free(s);
    return 0;
}

/* print_pairs - " key=value" for every member of obj except `skip`. */
/* print_pairs - " key=value" for each member but `skip` (and but the raw
 * "data" of an event the node decoded, i.e. one with a kind). */
static void print_pairs(const cJSON *obj, const char *skip)
{
    const cJSON *m;
    bool decoded = cJSON_GetObjectItemCaseSensitive(obj, "kind") != NULL;
    cJSON_ArrayForEach(m, obj) {
        if (skip && m->string && !strcmp(m->string, skip)) continue;
        if (decoded && m->string && !strcmp(m->string, "data")) continue;
        printf(" %s=", m->string ? m->string : "?");
        print_scalar(m);
    }
}

static void print_receipt(const cJSON *rc)
{
    const cJSON *ev, *evs = cJSON_GetObjectItemCaseSensitive(rc, "events");
    printf(KEYW, "receipt");
    print_scalar(cJSON_GetObjectItemCaseSensitive(rc, "status"));
    putchar(' ');
    print_scalar(cJSON_GetObjectItemCaseSensitive(rc, "message"));
    putchar('\n');
    field(rc, "gas_used", NULL);
    field(rc, "fee", NULL);
    cJSON_ArrayForEach(ev, evs) {
        printf(KEYW, "event");
        print_scalar(cJSON_GetObjectItemCaseSensitive(ev, "kind"));
        print_pairs(ev, "kind");
        putchar('\n');
    }
}

/* print_tx - a submit_tx, faucet or tx_status result as text. */
static void print_tx(const cJSON *r)
{
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(r, "receipt");
    field(r, "id", NULL);
    field(r, "amount", NULL);
    field(r, "status", NULL);
    field(r, "height", NULL);
    field(r, "index", NULL);
    if (cJSON_IsObject(rc)) print_receipt(rc);
    field(r, "code", NULL);
    field(r, "reason", NULL);
}

static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---------------------------------------------------------------------
 * Waiting for a transaction (tx transfer --wait, faucet --wait)
 * ------------------------------------------------------------------- */

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* wait_tx - poll tx_status until committed or rejected.
 * @return 0 with *out the final status, or -1 (printed). */
static int wait_tx(pel_rpc_client *c, const char *id, double timeout_s, cJSON **out)
{
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    double end = pel_cli_now() + timeout_s;
    const char *st = "unknown";
    *out = NULL;
    if (!p || !cJSON_AddStringToObject(p, "id", id)) { fprintf(stderr, "pel: out of memory\n"); goto fail; }
    for (;;) {
        if (pel_cli_call(c, "tx_status", p, &r, NULL)) goto fail;
        st = str_of(r, "status");
        if (!st) { fprintf(stderr, "pel: tx_status: unexpected reply\n"); goto fail; }
        if (!strcmp(st, "committed") || !strcmp(st, "rejected")) break;
        if (pel_cli_now() >= end) {
            fprintf(stderr, "pel: timed out after %g s waiting for transaction %s (still %s)\n",
                    timeout_s, id, st);
            goto fail;
        }
        cJSON_Delete(r);
        r = NULL;
        sleep_ms(WAIT_POLL_MS);
    }
    cJSON_Delete(p);
    *out = r;
    return 0;
fail:
    cJSON_Delete(p);
    cJSON_Delete(r);
    return -1;
}

/* final_status - exit status for a final tx_status: 0 only if committed
 * with a successful receipt; the reason on stderr otherwise. */
static int final_status(const cJSON *r, const char *id)
{
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(r, "receipt");
    if (!strcmp(str_of(r, "status"), "rejected")) {
        const char *why = str_of(r, "reason");
        fprintf(stderr, "pel: transaction %s rejected: %s\n", id, why ? why : "no reason given");
        return 1;
    }
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rc, "ok"))) {
        const char *why = str_of(rc, "message");
        fprintf(stderr, "pel: transaction %s failed: %s\n", id, why ? why : "no message");
        return 1;
    }
    return 0;
}

/* report_submitted - print a submit result, or wait and print the final
 * status. @return the exit status. */
static int report_submitted(pel_rpc_client *c, const cJSON *res, int wait, double timeout_s,
                            int json)
{
    const char *id = str_of(res, "id");
    cJSON *fin;
    if (!wait) {
        if (json) return print_json(res) ? 1 : 0;
        print_tx(res);
        return 0;
    }
    if (!id) { fprintf(stderr, "pel: the node's reply has no transaction id\n"); return 1; }
    if (wait_tx(c, id, timeout_s, &fin)) return 1;
    int rc = json ? (print_json(fin) ? 1 : 0) : (print_tx(fin), 0);
    fflush(stdout);
    if (rc == 0) rc = final_status(fin, id);
    cJSON_Delete(fin);
    return rc;
}

/* submit_raw - submit a signed transaction and report it (report_submitted).
 * @return the exit status. */
static int submit_raw(pel_rpc_client *c, const pel_buf *raw, int wait, double timeout_s, int json)
{
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    char *hex = malloc(2 * raw->len + 1);
    int rc = 1;
    if (!hex || !p) fprintf(stderr, "pel: out of memory\n");
    else {
        pel_hex_encode(raw->data, raw->len, hex);
        if (cJSON_AddStringToObject(p, "tx", hex) &&
            pel_cli_call(c, "submit_tx", p, &r, "transaction rejected") == 0)
            rc = report_submitted(c, r, wait, timeout_s, json);
    }
    cJSON_Delete(p);
    cJSON_Delete(r);
    free(hex);
    return rc;
}

int pel_cli_submit_body(pel_rpc_client *c, const uint8_t sk[PEL_SECKEY_LEN], uint16_t type,
                        const uint8_t *body, size_t len, uint64_t extra_gas, int wait,
                        double timeout_s, int json, uint8_t *txid)
{
    pel_cli_chain node;
    pel_addr from;
    pel_tx tx;
    pel_buf raw;
    int rc = 1;
    pel_buf_init(&raw);
    pel_addr_from_pubkey(sk + PEL_SEED_LEN, &from);
    memset(&tx, 0, sizeof tx);
    if (pel_cli_node_info(c, &node) || pel_cli_next_nonce(c, &from, &tx.nonce, NULL)) goto out;
    tx.chain_id = (const uint8_t *)node.chain_id;
    tx.chain_id_len = (uint32_t)strlen(node.chain_id);
    tx.gas_price = node.min_gas_price;
    tx.type = type;
    tx.body = body;
    tx.body_len = (uint32_t)len;
    int e = pel_tx_sign(&tx, sk, &raw);          /* once for the size, once with the limit */
    if (!e) {
        tx.gas_limit = pel_intrinsic_gas(&node.gas, tx.size) + extra_gas;
        raw.len = 0;
        e = pel_tx_sign(&tx, sk, &raw);
    }
    if (e) { fprintf(stderr, "pel: cannot sign the transaction: %s\n", pel_strerror(e)); goto out; }
    if (txid) memcpy(txid, tx.id, 32);
    rc = submit_raw(c, &raw, wait, timeout_s, json);
out:
    pel_buf_free(&raw);
    return rc;
}

/* ---------------------------------------------------------------------
 * pel keygen
 * ------------------------------------------------------------------- */

static void keygen_usage(FILE *f)
{
    fprintf(f,
        "usage: pel keygen [--out FILE] [--json]\n"
        "\n"
        "Creates a new Ed25519 key file (default pel.key, mode 0600; an existing\n"
        "file is never overwritten) and prints its address and public key:\n"
        "  address       pel1...\n"
        "  public_key    <64 hex digits>\n"
        "  key_file      <FILE>\n"
        "--json prints {\"address\":\"pel1...\",\"public_key\":\"...\",\"key_file\":\"...\"}.\n");
}

int pel_cli_keygen(int argc, char **argv)
{
    const char *out = "pel.key", *pos[1];
    int json = 0, np;
    uint8_t pk[PEL_PUBKEY_LEN];
    char hex[2 * PEL_PUBKEY_LEN + 1], addr[PEL_ADDR_STR_LEN + 1];
    pel_addr a;
    pel_cli_opt s[] = { { "--out", .val = &out }, { "--json", .flag = &json } };
    skip_self(&argc, &argv, "keygen");
    int rc = parse_opts(argc, argv, s, 2, pos, 0, &np, keygen_usage);
    if (rc) return rc == 1 ? 0 : 2;
    rc = pel_keyfile_create(out, pk, NULL);
    if (rc == PEL_EEXIST) { fprintf(stderr, "pel: %s already exists; not overwriting it\n", out); return 1; }
    if (rc) { fprintf(stderr, "pel: cannot create key file %s: %s\n", out, pel_strerror(rc)); return 1; }
    pel_addr_from_pubkey(pk, &a);
    pel_addr_format(&a, addr);
    pel_hex_encode(pk, sizeof pk, hex);
    if (json) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "address", addr)
            || !cJSON_AddStringToObject(o, "public_key", hex)
            || !cJSON_AddStringToObject(o, "key_file", out) || print_json(o)) {
            cJSON_Delete(o);
            return 1;
        }
        cJSON_Delete(o);
        return 0;
    }
    printf(KEYW "%s\n" KEYW "%s\n" KEYW "%s\n", "address", addr, "public_key", hex, "key_file", out);
    return 0;
}

/* ---------------------------------------------------------------------
 * pel account show
 * ------------------------------------------------------------------- */

static void account_usage(FILE *f)
{
    fprintf(f,
        "usage: pel account show ADDR [--rpc URL] [--json]\n"
        "\n"
        "Shows an account (method `account`):\n"
        "  address       pel1...\n"
        "  balance       <decimal>\n"
        "  nonce         <committed nonce>\n"
        "  next_nonce    <next nonce, counting pending transactions>\n"
        "--json prints the node's result: {\"address\":...,\"balance\":\"...\",\"nonce\":N,\"next_nonce\":N}.\n"
        "The node is --rpc URL, else $PEL_RPC, else " PEL_CLI_DEFAULT_RPC ".\n");
}

/* call_print - connect, call, print the result (text via fn); exit status. */
static int call_print(const char *rpc, const char *method, const cJSON *params, int json,
                      void (*fn)(const cJSON *))
{
    pel_rpc_client *c;
    cJSON *r;
    int rc = 1;
    if (pel_cli_connect(pel_cli_rpc_url(rpc), CALL_TIMEOUT_MS, &c)) return 1;
    if (pel_cli_call(c, method, params, &r, NULL) == 0) {
        if (json) rc = print_json(r) ? 1 : 0;
        else { fn(r); rc = 0; }
        cJSON_Delete(r);
    }
    pel_rpc_client_free(c);
    return rc;
}

static void print_account(const cJSON *r)
{
    field(r, "address", NULL);
    field(r, "balance", NULL);
    field(r, "nonce", NULL);
    field(r, "next_nonce", NULL);
}

static int account_show(int argc, char **argv)
{
    const char *rpc = NULL, *pos[1];
    int json = 0, np;
    pel_addr a;
    pel_cli_opt s[] = { { "--rpc", .val = &rpc }, { "--json", .flag = &json } };
    int rc = parse_opts(argc, argv, s, 2, pos, 1, &np, account_usage);
    if (rc) return rc == 1 ? 0 : 2;
    if (np != 1) { fprintf(stderr, "pel: account show needs an address\n"); account_usage(stderr); return 2; }
    if (pel_cli_parse_addr("address", pos[0], &a)) return 1;
    cJSON *p = cJSON_CreateObject();
    if (!p || !cJSON_AddStringToObject(p, "address", pos[0])) { cJSON_Delete(p); return 1; }
    rc = call_print(rpc, "account", p, json, print_account);
    cJSON_Delete(p);
    return rc;
}

int pel_cli_account(int argc, char **argv)
{
    skip_self(&argc, &argv, "account");
    if (argc >= 1 && is_help(argv[0])) { account_usage(stdout); return 0; }
    if (argc >= 1 && !strcmp(argv[0], "show")) return account_show(argc - 1, argv + 1);
    if (argc >= 1) fprintf(stderr, "pel: unknown account command '%s'\n", argv[0]);
    account_usage(stderr);
    return 2;
}

/* ---------------------------------------------------------------------
 * pel tx transfer / pel tx status
 * ------------------------------------------------------------------- */

#define TX_STATUS_FORMAT \
    "  id            <hex>\n" \
    "  status        pending | committed | rejected | unknown\n" \
    "committed adds:\n" \
    "  height        <block height>\n" \
    "  index         <position in the block>\n" \
    "  receipt       <status code> <message>     (0 success)\n" \
    "  gas_used      <gas>\n" \
    "  fee           <decimal>\n" \
    "  event         <kind> key=value ...        (one line per event)\n" \
    "rejected adds:\n" \
    "  code          <PEL error code>\n" \
    "  reason        <message>\n"

static void tx_usage(FILE *f)
{
    fprintf(f,
        "usage: pel tx transfer --to ADDR --amount N [options]   sign and submit a transfer\n"
        "       pel tx status ID [--rpc URL] [--json]             show a transaction's status\n"
        "\n"
        "Run `pel tx transfer --help` or `pel tx status --help` for details.\n");
}

static void transfer_usage(FILE *f)
{
    fprintf(f,
        "usage: pel tx transfer --to ADDR --amount N [--key FILE] [--gas-price P]\n"
        "                       [--gas-limit G] [--expiry-blocks K] [--declare]\n"
        "                       [--wait [--timeout S]] [--rpc URL] [--json]\n"
        "\n"
        "Signs a transfer of N tokens to ADDR with the key in FILE (default pel.key)\n"
        "and submits it (submit_tx). The chain id, gas schedule and minimum gas price\n"
        "come from node_info, the nonce from account.next_nonce.\n"
        "  --gas-price P      default: the node's min_gas_price\n"
        "  --gas-limit G      default: intrinsic gas of the signed size + %d\n"
        "  --expiry-blocks K  expire K blocks after the current height (default: never)\n"
        "  --declare          attach the declared access list (writes nonce(from);\n"
        "                     deltas balance(from), balance(to), fee pool)\n"
        "  --wait             poll tx_status every 100 ms until committed or rejected\n"
        "  --timeout S        give up waiting after S seconds (default 30)\n"
        "Output: without --wait the submit result,\n"
        "  id            <hex>\n"
        "  status        pending\n"
        "with --wait the final status as `pel tx status` prints it:\n"
        TX_STATUS_FORMAT
        "--json prints the node's submit_tx result, or with --wait its final tx_status result.\n"
        "Exit status: 0 submitted (with --wait: committed and the receipt is ok);\n"
        "1 on errors, admission rejection, and with --wait rejection, a failed receipt\n"
        "or timeout (the reason on stderr); 2 usage error.\n",
        PEL_CLI_GAS_MARGIN);
}

static void status_usage(FILE *f)
{
    fprintf(f,
        "usage: pel tx status ID [--rpc URL] [--json]\n"
        "\n"
        "Shows a transaction's status (method tx_status):\n"
        TX_STATUS_FORMAT
        "--json prints the node's result. Exit status 0 for any of the four statuses,\n"
        "1 on errors, 2 usage error.\n");
}

static int tx_status(int argc, char **argv)
{
    const char *rpc = NULL, *pos[1];
    int json = 0, np;
    uint8_t id[PEL_TXID_LEN];
    size_t n;
    pel_cli_opt s[] = { { "--rpc", .val = &rpc }, { "--json", .flag = &json } };
    int rc = parse_opts(argc, argv, s, 2, pos, 1, &np, status_usage);
    if (rc) return rc == 1 ? 0 : 2;
    if (np != 1) { fprintf(stderr, "pel: tx status needs a transaction id\n"); status_usage(stderr); return 2; }
    if (strlen(pos[0]) != 2 * PEL_TXID_LEN || pel_hex_decode(pos[0], strlen(pos[0]), id, sizeof id, &n)) {
        fprintf(stderr, "pel: a transaction id is 64 hex digits, got '%s'\n", pos[0]);
        return 1;
    }
    cJSON *p = cJSON_CreateObject();
    if (!p || !cJSON_AddStringToObject(p, "id", pos[0])) { cJSON_Delete(p); return 1; }
    rc = call_print(rpc, "tx_status", p, json, print_tx);
    cJSON_Delete(p);
    return rc;
}

typedef struct transfer_opts {
    const char *to, *amount, *key, *gas_price, *gas_limit, *expiry, *timeout, *rpc;
    int declare, wait, json;
} transfer_opts;

typedef struct transfer_args {
    pel_addr to;
    uint64_t amount, gas_price, gas_limit, expiry_blocks, timeout;
} transfer_args;

/* transfer_parse - @return 0, 1 (help shown), 2 (usage error), 3 (bad
 * address: exit 1). */
static int transfer_parse(int argc, char **argv, transfer_opts *o, transfer_args *t)
{
    const char *pos[1];
    int np;
    pel_cli_opt s[] = {
        { "--to", .val = &o->to }, { "--amount", .val = &o->amount }, { "--key", .val = &o->key },
        { "--gas-price", .val = &o->gas_price }, { "--gas-limit", .val = &o->gas_limit },
        { "--expiry-blocks", .val = &o->expiry }, { "--timeout", .val = &o->timeout },
        { "--rpc", .val = &o->rpc }, { "--declare", .flag = &o->declare },
        { "--wait", .flag = &o->wait }, { "--json", .flag = &o->json },
    };
    memset(t, 0, sizeof *t);
    t->timeout = 30;
    int rc = parse_opts(argc, argv, s, sizeof s / sizeof s[0], pos, 0, &np, transfer_usage);
    if (rc) return rc;
    if (!o->to || !o->amount) {
        fprintf(stderr, "pel: tx transfer needs --to ADDR and --amount N\n");
        transfer_usage(stderr);
        return 2;
    }
    if (opt_u64("--amount", o->amount, 0, INT64_MAX, &t->amount)
        || opt_u64("--gas-price", o->gas_price, 1, UINT64_MAX, &t->gas_price)
        || opt_u64("--gas-limit", o->gas_limit, 1, UINT64_MAX, &t->gas_limit)
        || opt_u64("--expiry-blocks", o->expiry, 0, UINT32_MAX, &t->expiry_blocks)
        || opt_u64("--timeout", o->timeout, 1, 86400, &t->timeout))
        return 2;
    return pel_cli_parse_addr("--to", o->to, &t->to) ? 3 : 0;
}

/* load_key - the sender's key; prints the reason on failure. */
int pel_cli_load_key(const char *path, uint8_t pk[PEL_PUBKEY_LEN], uint8_t sk[PEL_SECKEY_LEN])
{
    char err[256];
    int rc = pel_keyfile_load(path, pk, sk, err, sizeof err);
    if (rc == 0) return 0;
    fprintf(stderr, "pel: %s%s\n", err,
            rc == PEL_ENOTFOUND ? " (create one with `pel keygen`, or pass --key FILE)" : "");
    return -1;
}

/* sign_and_submit - everything after parsing; @return the exit status. */
static int sign_and_submit(pel_rpc_client *c, const transfer_opts *o, const transfer_args *a,
                           const uint8_t sk[PEL_SECKEY_LEN], const pel_addr *from)
{
    pel_cli_chain node;
    pel_cli_transfer t = { &node, a->to, a->amount, 0, a->gas_price, a->gas_limit, 0, o->declare };
    pel_tx tx;
    pel_buf raw;
    int rc = 1;
    pel_buf_init(&raw);
    if (pel_cli_node_info(c, &node) || pel_cli_next_nonce(c, from, &t.nonce, NULL)) goto out;
    if (!o->gas_price) t.gas_price = node.min_gas_price;
    if (a->expiry_blocks) t.expiry_height = node.height + a->expiry_blocks;
    int e = pel_cli_sign_transfer(&t, sk, &raw, &tx);
    if (e) { fprintf(stderr, "pel: cannot sign the transfer: %s\n", pel_strerror(e)); goto out; }
    rc = submit_raw(c, &raw, o->wait, (double)a->timeout, o->json);
out:
    pel_buf_free(&raw);
    return rc;
}

static int tx_transfer(int argc, char **argv)
{
    transfer_opts o = { 0 };
    transfer_args a;
    uint8_t pk[PEL_PUBKEY_LEN], sk[PEL_SECKEY_LEN];
    pel_addr from;
    pel_rpc_client *c;
    int rc = transfer_parse(argc, argv, &o, &a);
    if (rc) return rc == 1 ? 0 : rc == 2 ? 2 : 1;
    if (pel_cli_load_key(o.key ? o.key : "pel.key", pk, sk)) return 1;
    pel_addr_from_pubkey(pk, &from);
    rc = 1;
    if (pel_cli_connect(pel_cli_rpc_url(o.rpc), CALL_TIMEOUT_MS, &c) == 0) {
        rc = sign_and_submit(c, &o, &a, sk, &from);
        pel_rpc_client_free(c);
    }
    sodium_memzero(sk, sizeof sk);
    return rc;
}

int pel_cli_tx(int argc, char **argv)
{
    skip_self(&argc, &argv, "tx");
    if (argc >= 1 && is_help(argv[0])) { tx_usage(stdout); return 0; }
    if (argc >= 1 && !strcmp(argv[0], "transfer")) return tx_transfer(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "status")) return tx_status(argc - 1, argv + 1);
    if (argc >= 1) fprintf(stderr, "pel: unknown tx command '%s'\n", argv[0]);
    tx_usage(stderr);
    return 2;
}

/* ---------------------------------------------------------------------
 * pel block show
 * ------------------------------------------------------------------- */

static void block_usage(FILE *f)
{
    fprintf(f,
        "usage: pel block show N|latest [--receipts] [--rpc URL] [--json]\n"
        "\n"
        "Shows a block header and its transactions (method `block`), one field a line\n"
        "in the node's order:\n"
        "  height        <N>\n"
        "  hash          <hex>\n"
        "  prev_hash     <hex>\n"
        "  timestamp_ms  <ms>\n"
        "  tx_count      <count>\n"
        "  ...           (tx_root, state_root, receipts_root, history_size,\n"
        "                 history_root, proposer, signature)\n"
        "then one line per transaction:\n"
        "  tx            <id>\n"
        "or with --receipts:\n"
        "  tx            <id> from=pel1... nonce=N status=S gas_used=G\n"
        "--json prints the node's result.\n");
}

/* pair - " name=value" if v is present. */
static void pair(const char *name, const cJSON *v)
{
    if (!v) return;
    printf(" %s=", name);
    print_scalar(v);
}

/* print_block_tx - a --receipts entry: the status and gas come from its
 * "receipt" object, or from the entry itself when it has none. */
static void print_block_tx(const cJSON *m)
{
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(m, "receipt");
    const cJSON *src = cJSON_IsObject(rc) ? rc : m;
    print_scalar(cJSON_GetObjectItemCaseSensitive(m, "id"));
    pair("from", cJSON_GetObjectItemCaseSensitive(m, "from"));
    pair("nonce", cJSON_GetObjectItemCaseSensitive(m, "nonce"));
    pair("status", cJSON_GetObjectItemCaseSensitive(src, "status"));
    pair("gas_used", cJSON_GetObjectItemCaseSensitive(src, "gas_used"));
}

static void print_block(const cJSON *r)
{
    const cJSON *m, *txs = cJSON_GetObjectItemCaseSensitive(r, "txs");
    cJSON_ArrayForEach(m, r) {
        if (m == txs) continue;
        printf(KEYW, m->string ? m->string : "?");
        print_scalar(m);
        putchar('\n');
    }
    cJSON_ArrayForEach(m, txs) {
        printf(KEYW, "tx");
        if (cJSON_IsObject(m)) print_block_tx(m);
        else print_scalar(m);
        putchar('\n');
    }
}

static int block_show(int argc, char **argv)
{
    const char *rpc = NULL, *pos[1];
    int json = 0, receipts = 0, np;
    uint64_t h = 0;
    pel_cli_opt s[] = { { "--rpc", .val = &rpc }, { "--json", .flag = &json },
                     { "--receipts", .flag = &receipts } };
    int rc = parse_opts(argc, argv, s, 3, pos, 1, &np, block_usage);
    if (rc) return rc == 1 ? 0 : 2;
    if (np != 1) { fprintf(stderr, "pel: block show needs a height or 'latest'\n"); block_usage(stderr); return 2; }
    int latest = !strcmp(pos[0], "latest");
    if (!latest && opt_u64("height", pos[0], 0, (1ULL << 53), &h)) return 2;
    cJSON *p = cJSON_CreateObject();
    if (!p || !(latest ? cJSON_AddStringToObject(p, "height", "latest")
                       : cJSON_AddNumberToObject(p, "height", (double)h))
        || (receipts && !cJSON_AddTrueToObject(p, "receipts"))) {
        cJSON_Delete(p);
        return 1;
    }
    rc = call_print(rpc, "block", p, json, print_block);
    cJSON_Delete(p);
    return rc;
}

int pel_cli_block(int argc, char **argv)
{
    skip_self(&argc, &argv, "block");
    if (argc >= 1 && is_help(argv[0])) { block_usage(stdout); return 0; }
    if (argc >= 1 && !strcmp(argv[0], "show")) return block_show(argc - 1, argv + 1);
    if (argc >= 1) fprintf(stderr, "pel: unknown block command '%s'\n", argv[0]);
    block_usage(stderr);
    return 2;
}

/* ---------------------------------------------------------------------
 * pel faucet
 * ------------------------------------------------------------------- */

static void faucet_usage(FILE *f)
{
    fprintf(f,
        "usage: pel faucet ADDR [--amount N] [--wait [--timeout S]] [--rpc URL] [--json]\n"
        "\n"
        "Asks a devnet node to send tokens to ADDR from its faucet key (method\n"
        "`faucet`; the amount defaults to the node's configured one and is capped\n"
        "by faucet.max_amount). Prints the transfer's id and amount:\n"
        "  id            <hex>\n"
        "  amount        <decimal>\n"
        "With --wait, polls tx_status every 100 ms until committed or rejected\n"
        "(timeout S seconds, default 30) and prints it as `pel tx status` does.\n"
        "--json prints the node's faucet result ({\"id\":...,\"amount\":\"...\"}), or with --wait its final tx_status.\n"
        "Exit status: as `pel tx transfer`.\n");
}

int pel_cli_faucet(int argc, char **argv)
{
    const char *rpc = NULL, *amount = NULL, *timeout = NULL, *pos[1];
    int json = 0, wait = 0, np;
    uint64_t amt = 0, tmo = 30;
    pel_addr a;
    pel_rpc_client *c;
    cJSON *p, *r;
    pel_cli_opt s[] = { { "--rpc", .val = &rpc }, { "--amount", .val = &amount },
                     { "--timeout", .val = &timeout }, { "--json", .flag = &json },
                     { "--wait", .flag = &wait } };
    skip_self(&argc, &argv, "faucet");
    int rc = parse_opts(argc, argv, s, 5, pos, 1, &np, faucet_usage);
    if (rc) return rc == 1 ? 0 : 2;
    if (np != 1) { fprintf(stderr, "pel: faucet needs an address\n"); faucet_usage(stderr); return 2; }
    if (opt_u64("--amount", amount, 1, INT64_MAX, &amt) || opt_u64("--timeout", timeout, 1, 86400, &tmo))
        return 2;
    if (pel_cli_parse_addr("address", pos[0], &a)) return 1;
    char amt_s[24];
    snprintf(amt_s, sizeof amt_s, "%llu", (unsigned long long)amt);
    p = cJSON_CreateObject();
    if (!p || !cJSON_AddStringToObject(p, "address", pos[0])
        || (amount && !cJSON_AddStringToObject(p, "amount", amt_s))) { cJSON_Delete(p); return 1; }
    rc = 1;
    if (pel_cli_connect(pel_cli_rpc_url(rpc), CALL_TIMEOUT_MS, &c) == 0) {
        if (pel_cli_call(c, "faucet", p, &r, NULL) == 0) {
            rc = report_submitted(c, r, wait, (double)tmo, json);
            cJSON_Delete(r);
        }
        pel_rpc_client_free(c);
    }
    cJSON_Delete(p);
    return rc;
}

int pel_cli_send_body(const char *who, const pel_tx_module *m, uint16_t type, const pel_buf *body,
                      const char *key, const char *rpc, uint64_t extra_gas, int wait, int json,
                      uint8_t *txid)
{
    uint8_t pk[PEL_PUBKEY_LEN], sk[PEL_SECKEY_LEN];
    const char *why = NULL;
    pel_rpc_client *c;
    int rc = m ? m->check(type, body->data, (uint32_t)body->len, &why) : 0;
    if (rc) {
        fprintf(stderr, "%s: %s\n", who, why ? why : pel_strerror(rc));
        return 2;
    }
    if (pel_cli_load_key(key ? key : "pel.key", pk, sk)) return 1;
    rc = 1;
    if (pel_cli_connect(pel_cli_rpc_url(rpc), 30000, &c) == 0) {
        rc = pel_cli_submit_body(c, sk, type, body->data, body->len, extra_gas, wait, 30.0, json, txid);
        pel_rpc_client_free(c);
    }
    sodium_memzero(sk, sizeof sk);
    return rc;
}
