/*
 * prereg.c - `pel prereg`: commit to a protocol and primary outcomes,
 * reveal them later, link results (outcome switching is flagged by the
 * chain), record status changes, show a preregistration
 * (modules/prereg.h). The commit keeps everything needed for the reveal
 * (protocol digest, outcomes, the random salt) in a reveal file that only
 * its owner should read: without it the commitment cannot be opened.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "core/codec.h"
#include "core/file.h"
#include "core/hex.h"
#include "modules/prereg.h"

#define PREREG_TIMEOUT_MS 30000

static void prereg_usage(FILE *f)
{
    fprintf(f,
        "usage: pel prereg commit --protocol FILE --outcome TEXT... --save REVEAL.json\n"
        "                         [--embargo-height H] [--embargo-until YYYY-MM-DDTHH:MM:SSZ]\n"
        "                         [--registry-id ID] [--sample-size N]\n"
        "       pel prereg reveal REVEAL.json\n"
        "       pel prereg results ID --object pel:obj:… --outcome TEXT...\n"
        "       pel prereg status ID planned|recruiting|active|completed|terminated|withdrawn\n"
        "       pel prereg show ID [--json]\n"
        "Common: --key FILE (default pel.key), --wait, --rpc URL, --json.\n"
        "\n"
        "commit publishes only a hash of (protocol SHA-256, primary outcomes, a random salt);\n"
        "REVEAL.json (mode 0600, never overwritten) keeps what the reveal needs. Before the\n"
        "embargo ends only the registrant may reveal; afterwards anyone with the file may.\n"
        "results links a registered object; if its outcomes differ from the committed ones\n"
        "the record is flagged OUTCOME-SWITCHED, with the added and dropped outcomes.\n");
}

typedef struct pr_opts {
    const char *pos[2]; int npos;
    const char *protocol, *save, *key, *rpc, *object, *registry_id;
    const char *outcomes[PEL_PREREG_OUTCOMES_MAX]; int n_out;
    unsigned long long embargo_height, embargo_ms, sample_size;
    int wait, json;
} pr_opts;

static int parse_time(const char *s, unsigned long long *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end) { fprintf(stderr, "pel prereg: --embargo-until wants YYYY-MM-DDTHH:MM:SSZ, got '%s'\n", s); return -1; }
    time_t t = timegm(&tm);
    if (t < 0) return -1;
    *ms = (unsigned long long)t * 1000ull;
    return 0;
}

static int parse(int argc, char **argv, pr_opts *o)
{
    const char *eh = NULL, *eu = NULL, *ss = NULL;
    memset(o, 0, sizeof *o);
    const pel_cli_opt opts[] = {
        { "--wait", .flag = &o->wait }, { "--json", .flag = &o->json },
        { "--protocol", .val = &o->protocol }, { "--save", .val = &o->save },
        { "--key", .val = &o->key }, { "--rpc", .val = &o->rpc }, { "--object", .val = &o->object },
        { "--registry-id", .val = &o->registry_id },
        { "--outcome", .val = o->outcomes, .n = &o->n_out, .max = PEL_PREREG_OUTCOMES_MAX, .what = "outcomes" },
        { "--embargo-height", .val = &eh }, { "--embargo-until", .val = &eu }, { "--sample-size", .val = &ss },
    };
    const pel_cli_cmd cmd = { "pel prereg", prereg_usage, opts, sizeof opts / sizeof opts[0] };
    int rc = pel_cli_parse(&cmd, argc, argv, o->pos, 2, &o->npos);
    if (rc) return rc;
    if (eh && pel_cli_u64("--embargo-height", eh, 1, UINT64_MAX, &o->embargo_height)) return 2;
    if (eu && parse_time(eu, &o->embargo_ms)) return 2;
    if (ss && pel_cli_u64("--sample-size", ss, 1, UINT64_MAX, &o->sample_size)) return 2;
    return 0;
}

static int outcomes_from(const char *const *s, int n, pel_outcomes *o)
{
    memset(o, 0, sizeof *o);
    if (n == 0) { fprintf(stderr, "pel prereg: give the primary outcomes with --outcome TEXT (repeatable)\n"); return -1; }
    for (int i = 0; i < n; i++) {
        if (strlen(s[i]) == 0 || strlen(s[i]) > PEL_PREREG_OUTCOME_MAX) {
            fprintf(stderr, "pel prereg: an outcome is 1 to %d bytes: '%s'\n", PEL_PREREG_OUTCOME_MAX, s[i]);
            return -1;
        }
        snprintf(o->s[i], sizeof o->s[i], "%s", s[i]);
    }
    o->n = (uint32_t)n;
    return 0;
}

/* Check, sign and submit a body with the key of the options. */
static int submit(const pr_opts *o, uint16_t type, const pel_buf *body, uint8_t *txid)
{
    return pel_cli_send_body("pel prereg", &pel_prereg_module, type, body, o->key, o->rpc,
                             4000 + 4 * (uint64_t)body->len + 60000, o->wait, o->json, txid);
}

/* ---- the reveal file ---- */

static char *reveal_json(const char *id, const uint8_t proto[32], const pel_outcomes *out,
                         const uint8_t salt[32])
{
    char hex[65];
    cJSON *j = cJSON_CreateObject(), *a = cJSON_CreateArray();
    cJSON_AddNumberToObject(j, "pel_prereg_reveal", 1);
    if (id) cJSON_AddStringToObject(j, "id", id);
    pel_hex_encode(proto, 32, hex);
    cJSON_AddStringToObject(j, "protocol_sha256", hex);
    for (uint32_t i = 0; i < out->n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(out->s[i]));
    cJSON_AddItemToObject(j, "outcomes", a);
    pel_hex_encode(salt, 32, hex);
    cJSON_AddStringToObject(j, "salt", hex);
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    return s;
}

static int write_reveal(const char *path, const char *id, const uint8_t proto[32],
                        const pel_outcomes *out, const uint8_t salt[32], int replace)
{
    char tmp[4200];
    char *s = reveal_json(id, proto, out, salt);
    if (!s) return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = pel_write_file_excl(replace ? tmp : path, s, strlen(s), 0600);
    if (!rc && replace && rename(tmp, path) != 0) rc = PEL_EIO;
    if (rc) fprintf(stderr, "pel prereg: cannot write %s: %s%s\n", path, pel_strerror(rc),
                    rc == PEL_EEXIST ? " (it exists; choose another --save file)" : "");
    sodium_memzero(s, strlen(s));
    free(s);
    return rc ? -1 : 0;
}

static int pr_commit(const pr_opts *o)
{
    pel_outcomes out;
    uint8_t proto[32], salt[32], cm[32], txid[32];
    pel_buf b;
    char id[PEL_PREREG_ID_STR_LEN + 1];
    if (!o->protocol || !o->save) { fprintf(stderr, "pel prereg commit: --protocol FILE and --save REVEAL.json are required\n"); return 2; }
    if (outcomes_from(o->outcomes, o->n_out, &out) || pel_cli_hash_file(o->protocol, proto)) return 2;
    randombytes_buf(salt, sizeof salt);
    if (pel_prereg_commitment(proto, &out, salt, cm)) { fprintf(stderr, "pel prereg: invalid outcomes\n"); return 2; }
    /* the salt is on disk before anything is published */
    if (write_reveal(o->save, NULL, proto, &out, salt, 0)) return 1;
    const char *rid = o->registry_id ? o->registry_id : "";
    pel_buf_init(&b);
    int rc = pel_enc_raw(&b, cm, 32) || pel_enc_u64(&b, o->embargo_height) || pel_enc_u64(&b, o->embargo_ms) ||
             pel_enc_bytes(&b, rid, strlen(rid)) || pel_enc_u64(&b, o->sample_size);
    if (!rc) rc = submit(o, PEL_TX_PREREG_COMMIT, &b, txid);
    pel_buf_free(&b);
    if (rc) {
        fprintf(stderr, "pel prereg: not committed; %s holds a salt nobody will need (delete it)\n", o->save);
        return rc;
    }
    pel_prereg_id pid;
    pel_prereg_id_of(txid, &pid);
    pel_prereg_id_format(&pid, id);
    id[PEL_PREREG_ID_STR_LEN] = 0;
    if (write_reveal(o->save, id, proto, &out, salt, 1)) return 1;
    sodium_memzero(salt, sizeof salt);
    if (!o->json) printf("%-13s %s\n%-13s %s (keep it private until the reveal)\n", "prereg", id, "reveal file", o->save);
    return 0;
}

static int hex32(const cJSON *j, const char *name, uint8_t out[32])
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, name);
    size_t n;
    return cJSON_IsString(it) && strlen(it->valuestring) == 64 &&
           pel_hex_decode(it->valuestring, 64, out, 32, &n) == 0 ? 0 : -1;
}

static int pr_reveal(const pr_opts *o)
{
    char *text = NULL;
    size_t len;
    uint8_t proto[32], salt[32];
    pel_outcomes out;
    pel_prereg_id id;
    pel_buf b;
    if (o->npos != 1) { fprintf(stderr, "usage: pel prereg reveal REVEAL.json [--key FILE]\n"); return 2; }
    if (pel_read_file(o->pos[0], 1 << 20, &text, &len)) { fprintf(stderr, "pel prereg: cannot read %s\n", o->pos[0]); return 2; }
    cJSON *j = cJSON_Parse(text);
    const cJSON *idj = cJSON_GetObjectItemCaseSensitive(j, "id"), *oc = cJSON_GetObjectItemCaseSensitive(j, "outcomes");
    const char *strs[PEL_PREREG_OUTCOMES_MAX];
    int n = 0, bad = !cJSON_IsString(idj) || pel_prereg_id_parse(idj->valuestring, &id) ||
                     hex32(j, "protocol_sha256", proto) || hex32(j, "salt", salt) || !cJSON_IsArray(oc);
    const cJSON *it;
    cJSON_ArrayForEach(it, oc) {
        if (!cJSON_IsString(it) || n == PEL_PREREG_OUTCOMES_MAX) { bad = 1; break; }
        strs[n++] = it->valuestring;
    }
    if (!bad) bad = outcomes_from(strs, n, &out);
    cJSON_Delete(j);
    sodium_memzero(text, len);
    free(text);
    if (bad) { fprintf(stderr, "pel prereg: %s is not a reveal file written by `pel prereg commit`\n", o->pos[0]); return 2; }
    pel_buf_init(&b);
    int rc = pel_enc_raw(&b, id.b, 16) || pel_enc_raw(&b, proto, 32) || pel_outcomes_encode(&out, &b) ||
             pel_enc_raw(&b, salt, 32);
    if (!rc) rc = submit(o, PEL_TX_PREREG_REVEAL, &b, NULL);
    sodium_memzero(salt, sizeof salt);
    pel_buf_free(&b);
    return rc;
}

static int pr_results(const pr_opts *o)
{
    pel_prereg_id id;
    pel_obj_id obj;
    uint32_t v;
    pel_outcomes out;
    pel_buf b;
    if (o->npos != 1 || pel_prereg_id_parse(o->pos[0], &id) || !o->object || pel_obj_id_parse(o->object, &obj, &v) || v) {
        fprintf(stderr, "usage: pel prereg results pel:prereg:… --object pel:obj:… --outcome TEXT...\n");
        return 2;
    }
    if (outcomes_from(o->outcomes, o->n_out, &out)) return 2;
    pel_buf_init(&b);
    int rc = pel_enc_raw(&b, id.b, 16) || pel_enc_raw(&b, obj.b, 16) || pel_outcomes_encode(&out, &b);
    if (!rc) rc = submit(o, PEL_TX_PREREG_RESULTS, &b, NULL);
    pel_buf_free(&b);
    return rc;
}

static int pr_status(const pr_opts *o)
{
    pel_prereg_id id;
    int s = -1;
    for (int i = 0; o->npos == 2 && i < PEL_PREREG_STATUSES; i++)
        if (!strcmp(o->pos[1], pel_prereg_status_names[i])) s = i;
    if (o->npos != 2 || pel_prereg_id_parse(o->pos[0], &id) || s < 0) {
        fprintf(stderr, "usage: pel prereg status pel:prereg:… planned|recruiting|active|completed|terminated|withdrawn\n");
        return 2;
    }
    uint8_t body[17];
    memcpy(body, id.b, 16);
    body[16] = (uint8_t)s;
    pel_buf b = { body, sizeof body, sizeof body };
    return submit(o, PEL_TX_PREREG_STATUS, &b, NULL);
}

static void print_list(const char *label, const cJSON *arr)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) printf("%-17s %s\n", label, it->valuestring);
}

static void print_record(const cJSON *r)
{
    const char *keys[] = { "id", "registrant", "height", "commitment", "registry_id", "sample_size",
                           "embargo_height", "embargo_time_ms", "revealed", "revealer", "protocol_sha256" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, keys[i]);
        if (cJSON_IsString(v) && v->valuestring[0] && strcmp(v->valuestring, "0")) printf("%-17s %s\n", keys[i], v->valuestring);
        else if (cJSON_IsNumber(v) && v->valuedouble) printf("%-17s %.0f\n", keys[i], v->valuedouble);
        else if (cJSON_IsBool(v)) printf("%-17s %s\n", keys[i], cJSON_IsTrue(v) ? "yes" : "no");
    }
    print_list("primary outcome", cJSON_GetObjectItemCaseSensitive(r, "primary_outcomes"));
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "status"))
        printf("%-17s %s (block %.0f)\n", "status", cJSON_GetObjectItemCaseSensitive(it, "status")->valuestring,
               cJSON_GetObjectItemCaseSensitive(it, "height")->valuedouble);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "results")) {
        int sw = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "outcome_switched"));
        printf("%-17s %s (block %.0f)%s\n", "results", cJSON_GetObjectItemCaseSensitive(it, "object")->valuestring,
               cJSON_GetObjectItemCaseSensitive(it, "height")->valuedouble, sw ? "  OUTCOME-SWITCHED" : "  outcomes as registered");
        print_list("  added", cJSON_GetObjectItemCaseSensitive(it, "added"));
        print_list("  dropped", cJSON_GetObjectItemCaseSensitive(it, "dropped"));
    }
}

static int pr_show(const pr_opts *o)
{
    pel_prereg_id id;
    pel_rpc_client *c;
    cJSON *r;
    int rc = 1;
    if (o->npos != 1 || pel_prereg_id_parse(o->pos[0], &id)) { fprintf(stderr, "usage: pel prereg show pel:prereg:…\n"); return 2; }
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "id", o->pos[0]);
    if (pel_cli_connect(pel_cli_rpc_url(o->rpc), PREREG_TIMEOUT_MS, &c) == 0) {
        if (pel_cli_call(c, "prereg", p, &r, "prereg") == 0) {
            if (o->json) { char *s = cJSON_Print(r); if (s) printf("%s\n", s); free(s); }
            else print_record(r);
            cJSON_Delete(r);
            rc = 0;
        }
        pel_rpc_client_free(c);
    }
    cJSON_Delete(p);
    return rc;
}

int pel_cli_prereg(int argc, char **argv)
{
    pr_opts o;
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        prereg_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    int rc = parse(argc - 1, argv + 1, &o);
    if (rc) return rc == 1 ? 0 : 2;
    if (!strcmp(argv[0], "commit")) return pr_commit(&o);
    if (!strcmp(argv[0], "reveal")) return pr_reveal(&o);
    if (!strcmp(argv[0], "results")) return pr_results(&o);
    if (!strcmp(argv[0], "status")) return pr_status(&o);
    if (!strcmp(argv[0], "show")) return pr_show(&o);
    fprintf(stderr, "pel prereg: unknown command '%s'\n", argv[0]);
    prereg_usage(stderr);
    return 2;
}
