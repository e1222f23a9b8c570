/*
 * prove.c - `pel prove`, `pel verify` and `pel checkpoint`: ask the node for
 * a proof file (docs/PROOFS.md section 4), check one offline, show a
 * signed checkpoint. `pel verify` needs no node and no network: the file
 * and the node's verifier key are all it reads.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "core/file.h"
#include "core/hex.h"
#include "ledger/block.h"
#include "ledger/tx.h"
#include "modules/priorart.h"
#include "state/proof.h"

#define PROVE_TIMEOUT_MS 30000

static void prove_usage(FILE *f)
{
    fprintf(f,
        "usage: pel prove tx ID [--at HEIGHT] [--out FILE] [--rpc URL]\n"
        "       pel prove state KEY|ADDRESS [--field balance|nonce] [--at HEIGHT] [--out FILE] [--rpc URL]\n"
        "       pel prove consistency OLD NEW [--out FILE] [--rpc URL]\n"
        "\n"
        "Asks the node for a self-contained proof file (docs/PROOFS.md) and writes it\n"
        "to FILE (refusing to overwrite one) or to standard output:\n"
        "  tx           transaction ID (64 hex) is in the ledger, with its receipt, as\n"
        "               of block HEIGHT (default: the head; its own block: the\n"
        "               tightest time bound)\n"
        "  state        state KEY (64 hex), or an ADDRESS's balance (default) or nonce,\n"
        "               has this value or none after block HEIGHT (default: the head)\n"
        "  consistency  the ledger at height NEW extends the ledger at height OLD\n"
        "Check it anywhere with: pel verify FILE --key VERIFIER_KEY\n"
        "(the key: `pel checkpoint` or `pel admin verifier-key`).\n");
}

static void verify_usage(FILE *f)
{
    fprintf(f,
        "usage: pel verify FILE --key VERIFIER_KEY [--file ORIGINAL] [--json]\n"
        "\n"
        "Checks the proof file offline (no node, no network) against the node's\n"
        "checkpoint verifier key (\"<chain-id>/pel+<id>+<base64>\", or a file holding\n"
        "it) and says exactly what was proven, or exactly what failed.\n"
        "--file ORIGINAL: FILE is a prior-art bundle (`pel object proof`); also prove\n"
        "that this exact file's SHA-256 was registered in the object by the bundle's\n"
        "signer no later than the checkpoint's time, and whether first.\n"
        "Exit status 0 when it verifies, 1 when it does not, 2 on a usage error.\n");
}

static void checkpoint_usage(FILE *f)
{
    fprintf(f,
        "usage: pel checkpoint [HEIGHT|latest] [--json] [--rpc URL]\n"
        "\n"
        "Prints the node's signed checkpoint (a C2SP signed note) after block HEIGHT\n"
        "and the verifier key that checks it.\n");
}

static int is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "help");
}

static int parse_height(const char *what, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!strcmp(s, "latest")) { *out = UINT64_MAX; return 0; }
    if (s[0] < '0' || s[0] > '9') goto bad;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) goto bad;
    *out = v;
    return 0;
bad:
    fprintf(stderr, "pel: %s: not a height: '%s'\n", what, s);
    return -1;
}

/* Write the canonical text of the proof object r to path (or stdout). */
int pel_cli_write_proof(const cJSON *r, const char *out)
{
    char *text = cJSON_PrintUnformatted(r), msg[256];
    pel_proof *p = malloc(sizeof *p);
    pel_buf b;
    int rc = text && p ? 0 : PEL_ENOMEM;
    pel_buf_init(&b);
    if (p) pel_proof_init(p);
    if (!rc) rc = pel_proof_parse(text, strlen(text), p, msg, sizeof msg);
    if (rc && rc != PEL_ENOMEM) fprintf(stderr, "pel: the node sent a malformed proof: %s\n", msg);
    if (!rc) rc = pel_proof_format(p, &b);
    if (!rc && out) {
        rc = pel_write_file_excl(out, b.data, b.len, 0644);
        if (rc == PEL_EEXIST) fprintf(stderr, "pel: %s exists; not overwriting it\n", out);
        else if (rc) fprintf(stderr, "pel: cannot write %s: %s\n", out, pel_strerror(rc));
        else fprintf(stderr, "wrote %s (%zu bytes)\n", out, b.len);
    } else if (!rc) {
        rc = fwrite(b.data, 1, b.len, stdout) == b.len && fflush(stdout) == 0 ? 0 : PEL_EIO;
    }
    if (p) { pel_proof_free(p); free(p); }
    pel_buf_free(&b);
    free(text);
    return rc ? 1 : 0;
}

static int call_write(const char *rpc, const char *method, cJSON *params, const char *out)
{
    pel_rpc_client *c;
    cJSON *r;
    int rc = 1;
    if (!params) return 1;
    if (pel_cli_connect(pel_cli_rpc_url(rpc), PROVE_TIMEOUT_MS, &c) == 0) {
        if (pel_cli_call(c, method, params, &r, method) == 0) {
            rc = pel_cli_write_proof(r, out);
            cJSON_Delete(r);
        }
        pel_rpc_client_free(c);
    }
    cJSON_Delete(params);
    return rc;
}

static void add_height(cJSON *o, const char *name, uint64_t h)
{
    char s[24];
    if (h == UINT64_MAX) { cJSON_AddStringToObject(o, name, "latest"); return; }
    snprintf(s, sizeof s, "%" PRIu64, h);
    cJSON_AddRawToObject(o, name, s);
}

int pel_cli_prove(int argc, char **argv)
{
    const char *out = NULL, *rpc = NULL, *field = "balance", *at_s = NULL, *pos[3] = { 0 };
    uint64_t at = UINT64_MAX;
    int npos = 0;
    if (argc < 1 || is_help(argv[0])) { prove_usage(argc < 1 ? stderr : stdout); return argc < 1 ? 2 : 0; }
    const char *what = argv[0];
    const pel_cli_opt opts[] = { { "--out", .val = &out }, { "--rpc", .val = &rpc },
                              { "--field", .val = &field }, { "--at", .val = &at_s } };
    const pel_cli_cmd cmd = { "pel prove", prove_usage, opts, sizeof opts / sizeof opts[0] };
    int rc = pel_cli_parse(&cmd, argc - 1, argv + 1, pos, 3, &npos);
    if (rc) return PEL_CLI_EXIT(rc);
    if (at_s && parse_height("--at", at_s, &at)) return 2;
    cJSON *params = cJSON_CreateObject();
    if (!strcmp(what, "tx") && npos == 1) {
        cJSON_AddStringToObject(params, "id", pos[0]);
        add_height(params, "height", at);
        return call_write(rpc, "prove_tx", params, out);
    }
    if (!strcmp(what, "state") && npos == 1) {
        if (!strncmp(pos[0], "pel1", 4)) {
            cJSON_AddStringToObject(params, "address", pos[0]);
            cJSON_AddStringToObject(params, "field", field);
        } else {
            cJSON_AddStringToObject(params, "key", pos[0]);
        }
        add_height(params, "height", at);
        return call_write(rpc, "prove_state", params, out);
    }
    if (!strcmp(what, "consistency") && npos == 2) {
        uint64_t o, n;
        if (parse_height("OLD", pos[0], &o) || parse_height("NEW", pos[1], &n)) { cJSON_Delete(params); return 2; }
        add_height(params, "old", o);
        add_height(params, "new", n);
        return call_write(rpc, "prove_consistency", params, out);
    }
    cJSON_Delete(params);
    fprintf(stderr, "pel prove: expected tx ID, state KEY or consistency OLD NEW\n");
    prove_usage(stderr);
    return 2;
}

/* ---- pel verify ---- */

/* The key argument: a verifier key string, or a file holding one. */
static int load_vkey(const char *arg, pel_note_verifier *v)
{
    char *text = NULL;
    size_t len = 0;
    if (strchr(arg, '+')) {
        int rc = pel_note_verifier_parse(arg, v);
        if (rc) fprintf(stderr, "pel verify: --key: not a verifier key: %s\n", pel_strerror(rc));
        return rc;
    }
    int rc = pel_read_file(arg, 4096, &text, &len);
    if (rc) { fprintf(stderr, "pel verify: --key: '%s' is neither a verifier key nor a readable file\n", arg); return rc; }
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) text[--len] = 0;
    rc = pel_note_verifier_parse(text, v);
    if (rc) fprintf(stderr, "pel verify: --key: %s does not hold a verifier key: %s\n", arg, pel_strerror(rc));
    free(text);
    return rc;
}

/* What a verified bundle proves about the original file, appended to line. */
static int prior_art(const pel_proof *p, const pel_proof_result *r, const char *original,
                     pel_buf *line, char *msg, size_t cap)
{
    uint8_t dg[32];
    pel_priorart_claim c;
    char hex[65], id[PEL_OBJ_ID_STR_LEN + 1], addr[PEL_ADDR_STR_LEN + 1], when[64], text[1024];
    if (pel_cli_hash_file(original, dg)) { snprintf(msg, cap, "cannot read %s", original); return PEL_EIO; }
    int rc = pel_priorart_check(p, r, dg, &c, msg, cap);
    if (rc) return rc;
    time_t t = (time_t)(c.no_later_than_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    pel_hex_encode(dg, 32, hex);
    pel_obj_id_format(&c.id, id);
    id[PEL_OBJ_ID_STR_LEN] = 0;
    pel_addr_format(&c.registrant, addr);
    snprintf(text, sizeof text, "file %s (sha256 %s) is content digest %u of %s@v%u (%s, \"%s\"), "
             "registered by %s in block %llu, no later than %s (%llu ms); %s\n",
             original, hex, c.digest_index, id, c.version, pel_obj_kind_names[c.kind], c.title, addr,
             (unsigned long long)c.height, when, (unsigned long long)c.no_later_than_ms,
             c.first ? "the first registration of this content on the chain"
                     : "NOT the first registration of this content on the chain");
    return pel_buf_append(line, text, strlen(text));
}

/* Details a proof's bytes carry beyond its line: for a transaction, who
 * sent it and how it ended. Only printed after the proof verified. */
static void print_tx_details(const pel_proof *p)
{
    pel_tx tx;
    pel_receipt r;
    char addr[PEL_ADDR_STR_LEN + 1];
    if (pel_tx_decode(p->tx.data, p->tx.len, &tx) == 0) {
        pel_addr_format(&tx.from, addr);
        printf("  sender %s, nonce %" PRIu64 ", type %u, %zu bytes\n", addr, tx.nonce, tx.type, p->tx.len);
    }
    if (pel_receipt_decode(p->receipt.data, p->receipt.len, &r) == 0)
        printf("  receipt: status %d (%s), gas used %" PRIu64 "\n", r.status,
               r.status ? pel_strerror(r.status) : "ok", r.gas_used);
}

static void print_json_verdict(int ok, const char *line, int code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", ok);
    if (ok) cJSON_AddStringToObject(o, "proven", line);
    else {
        cJSON_AddNumberToObject(o, "code", code);
        cJSON_AddStringToObject(o, "name", pel_strerror(code));
        cJSON_AddStringToObject(o, "error", msg);
    }
    char *s = cJSON_Print(o);
    if (s) printf("%s\n", s);
    free(s);
    cJSON_Delete(o);
}

int pel_cli_verify(int argc, char **argv)
{
    const char *file = NULL, *key = NULL, *original = NULL;
    int json = 0, np;
    const pel_cli_opt opts[] = { { "--key", .val = &key }, { "--file", .val = &original },
                              { "--json", .flag = &json } };
    const pel_cli_cmd cmd = { "pel verify", verify_usage, opts, sizeof opts / sizeof opts[0] };
    if (argc >= 1 && is_help(argv[0])) { verify_usage(stdout); return 0; }
    int prc = pel_cli_parse(&cmd, argc, argv, &file, 1, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    if (!file || !key) { verify_usage(stderr); return 2; }
    pel_note_verifier v;
    if (load_vkey(key, &v)) return 2;
    char *text = NULL, msg[512] = "";
    size_t len = 0;
    int rc = pel_read_file(file, PEL_PROOF_TEXT_MAX, &text, &len);
    if (rc) { fprintf(stderr, "pel verify: cannot read %s: %s\n", file, pel_strerror(rc)); return 2; }
    pel_proof *p = malloc(sizeof *p);
    pel_proof_result res;
    pel_buf line;
    pel_buf_init(&line);
    if (!p) { free(text); return 1; }
    pel_proof_init(p);
    rc = pel_proof_parse(text, len, p, msg, sizeof msg);
    if (!rc) rc = pel_proof_verify(p, &v, &res, msg, sizeof msg);
    if (!rc) rc = pel_proof_describe(p, &res, &line);
    if (!rc && original) rc = prior_art(p, &res, original, &line, msg, sizeof msg);
    if (!rc) rc = pel_buf_append(&line, "", 1);
    if (json) print_json_verdict(rc == 0, rc ? "" : (const char *)line.data, rc, msg[0] ? msg : pel_strerror(rc));
    else if (rc) printf("FAILED: %s (%s)\n", msg[0] ? msg : pel_strerror(rc), pel_strerror(rc));
    else {
        printf("OK: %s", (const char *)line.data);
        if (p->type == PEL_PROOF_TX) print_tx_details(p);
    }
    pel_buf_free(&line);
    pel_proof_free(p);
    free(p);
    free(text);
    return rc ? 1 : 0;
}

/* ---- pel checkpoint ---- */

int pel_cli_checkpoint(int argc, char **argv)
{
    const char *rpc = NULL, *height = NULL;
    uint64_t h = UINT64_MAX;
    int json = 0, np;
    const pel_cli_opt opts[] = { { "--rpc", .val = &rpc }, { "--json", .flag = &json } };
    const pel_cli_cmd cmd = { "pel checkpoint", checkpoint_usage, opts, sizeof opts / sizeof opts[0] };
    if (argc >= 1 && is_help(argv[0])) { checkpoint_usage(stdout); return 0; }
    int prc = pel_cli_parse(&cmd, argc, argv, &height, 1, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    if (height && parse_height("HEIGHT", height, &h)) return 2;
    cJSON *params = cJSON_CreateObject(), *r;
    pel_rpc_client *c;
    int rc = 1;
    add_height(params, "height", h);
    if (pel_cli_connect(pel_cli_rpc_url(rpc), PROVE_TIMEOUT_MS, &c) == 0) {
        if (pel_cli_call(c, "checkpoint", params, &r, "checkpoint") == 0) {
            const cJSON *note = cJSON_GetObjectItemCaseSensitive(r, "note");
            const cJSON *vk = cJSON_GetObjectItemCaseSensitive(r, "verifier_key");
            if (json) { char *s = cJSON_Print(r); if (s) printf("%s\n", s); free(s); rc = 0; }
            else if (cJSON_IsString(note) && cJSON_IsString(vk)) {
                printf("%s\nverifier key: %s\n", note->valuestring, vk->valuestring);
                rc = 0;
            }
            cJSON_Delete(r);
        }
        pel_rpc_client_free(c);
    }
    cJSON_Delete(params);
    return rc;
}
