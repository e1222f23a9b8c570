/*
 * review.c - `pel review`: submit a peer-review attestation of one version
 * of a research object (modules/review.h), show one. The review text is
 * hashed locally; only its SHA-256 goes on chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "core/codec.h"
#include "modules/review.h"
#include "modules/spdx.h"

static void review_usage(FILE *f)
{
    fprintf(f,
        "usage: pel review submit pel:obj:…@vN --recommendation accept|minor|major|reject|comment\n"
        "                         --text REVIEW_FILE [--competing-interests TEXT]\n"
        "                         [--license SPDX (CC-BY-4.0)] [--pseudonymous] [--key FILE] [--wait]\n"
        "       pel review show pel:obj:… [--json]     (the id of the review object)\n"
        "Common: --rpc URL (or $PEL_RPC), --json.\n"
        "\n"
        "Authors of the object (creator, maintainers, contributors of that version) may\n"
        "not review it; one review per reviewer and version. The review becomes a\n"
        "research object of kind review that links to what it reviews. --pseudonymous\n"
        "declares that the key is a per-review key (create and fund one with pel keygen\n"
        "and pel faucet), not the reviewer's public identity.\n");
}

static int submit(int argc, char **argv)
{
    const char *target = NULL, *rec = NULL, *text = NULL, *ci = "", *lic = "CC-BY-4.0", *key = "pel.key", *rpc = NULL;
    int pseudo = 0, wait = 0, json = 0, np;
    const pel_cli_opt opts[] = {
        { "--pseudonymous", .flag = &pseudo }, { "--wait", .flag = &wait }, { "--json", .flag = &json },
        { "--recommendation", .val = &rec }, { "--text", .val = &text },
        { "--competing-interests", .val = &ci }, { "--license", .val = &lic },
        { "--key", .val = &key }, { "--rpc", .val = &rpc },
    };
    const pel_cli_cmd cmd = { "pel review", review_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, &target, 1, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    pel_obj_id id;
    uint32_t ver = 0;
    int r = -1;
    for (int i = 0; rec && i < PEL_REVIEW_RECS; i++) if (!strcmp(rec, pel_review_rec_names[i])) r = i;
    if (!target || pel_obj_id_parse(target, &id, &ver) || ver == 0) {
        fprintf(stderr, "pel review: give the reviewed version as pel:obj:<32 hex>@v<n>\n");
        return 2;
    }
    if (r < 0) { fprintf(stderr, "pel review: --recommendation accept|minor|major|reject|comment\n"); return 2; }
    const pel_spdx_id *l = pel_spdx_canonical(lic);
    if (!l) { fprintf(stderr, "pel review: --license must be an SPDX identifier, got '%s'\n", lic); return 2; }
    uint8_t dg[32];
    if (!text) { fprintf(stderr, "pel review: --text REVIEW_FILE is required\n"); return 2; }
    if (pel_cli_hash_file(text, dg)) return 2;
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_enc_raw(&b, id.b, 16) || pel_enc_u32(&b, ver) || pel_enc_u8(&b, (uint8_t)r) ||
             pel_enc_raw(&b, dg, 32) || pel_enc_bytes(&b, ci, strlen(ci)) ||
             pel_enc_bytes(&b, l->id, strlen(l->id)) || pel_enc_u8(&b, (uint8_t)pseudo);
    if (!rc) rc = pel_cli_send_body("pel review", &pel_review_module, PEL_TX_REVIEW, &b, key, rpc,
                                    60000 + 4 * (uint64_t)b.len, wait, json, NULL);
    else rc = 1;
    pel_buf_free(&b);
    return rc;
}

static int show(int argc, char **argv)
{
    const char *id = NULL, *rpc = NULL;
    int json = 0, np;
    const pel_cli_opt opts[] = { { "--json", .flag = &json }, { "--rpc", .val = &rpc } };
    const pel_cli_cmd cmd = { "pel review", review_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, &id, 1, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    if (!id) { review_usage(stderr); return 2; }
    pel_rpc_client *c;
    cJSON *p = cJSON_CreateObject(), *r;
    int rc = 1;
    cJSON_AddStringToObject(p, "id", id);
    if (pel_cli_connect(pel_cli_rpc_url(rpc), 30000, &c) == 0) {
        if (pel_cli_call(c, "review", p, &r, "review") == 0) {
            char *s = json ? cJSON_Print(r) : NULL;
            if (s) printf("%s\n", s);
            else {
                const char *keys[] = { "id", "reviews", "recommendation", "reviewer", "pseudonymous",
                                       "competing_interests", "height" };
                for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, keys[i]);
                    if (cJSON_IsString(v)) printf("%-20s %s\n", keys[i], v->valuestring[0] ? v->valuestring : "(none declared)");
                    else if (cJSON_IsNumber(v)) printf("%-20s %.0f\n", keys[i], v->valuedouble);
                    else if (cJSON_IsBool(v)) printf("%-20s %s\n", keys[i], cJSON_IsTrue(v) ? "yes" : "no");
                }
            }
            free(s);
            cJSON_Delete(r);
            rc = 0;
        }
        pel_rpc_client_free(c);
    }
    cJSON_Delete(p);
    return rc;
}

int pel_cli_review(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        review_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "submit")) return submit(argc - 1, argv + 1);
    if (!strcmp(argv[0], "show")) return show(argc - 1, argv + 1);
    fprintf(stderr, "pel review: unknown command '%s'\n", argv[0]);
    review_usage(stderr);
    return 2;
}
