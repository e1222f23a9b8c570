/*
 * test_objects.c - the open-science record end to end on a real node,
 * through the `pel object`, `pel prereg` and `pel review` CLI as a researcher uses it: register files
 * (hashed locally), show them, ask who registered a file first, publish a
 * version, add a maintainer who may then publish, walk the provenance
 * both ways, list an address's contributions, set licence terms and buy a
 * licence (`pel license`);
 * and the refusals with their messages (no rights, unknown link target,
 * bad licence, bad role, missing file) with a non-zero exit status; and a
 * prior-art bundle (`pel object proof`) checked with the node stopped:
 * the original file is proven registered first by its signer, another
 * file and a tampered bundle are refused, by the C and Python verifiers.
 */
#include "test.h"
#include "node_harness.h"

#include <sys/stat.h>
#include <unistd.h>

static harness H;
static char out[65536];

static int cli(const char *const *args) { return h_run(&H, out, sizeof out, args); }

static char key_a[300], key_b[300], addr_a[64], addr_b[64], file1[300], file2[300];

/* A key file funded by the faucet; its address in addr. */
static void make_account(const char *name, char *path, char *addr)
{
    snprintf(path, 300, "%s/%s.key", H.dir, name);
    const char *kg[] = { "keygen", "--out", path, "--json", NULL };
    CHECK_EQ_INT(cli(kg), 0);
    const char *a = strstr(out, "pel1");
    CHECK(a != NULL);
    if (!a) return;
    snprintf(addr, 64, "%.52s", a);
    const char *fa[] = { "faucet", addr, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(fa), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* The object id from a --wait receipt's event line. */
static int id_from_out(char *id)
{
    const char *p = strstr(out, "id=pel:obj:");
    if (!p) return -1;
    snprintf(id, 41, "%.40s", p + 3);
    return 0;
}

static char obj1[48], obj2[48];

/* out holds "first": <word> (any JSON spacing) */
static int has_first(const char *word)
{
    for (const char *p = strstr(out, "\"first\":"); p; p = strstr(p + 1, "\"first\":")) {
        const char *v = p + 8;
        while (*v == ' ' || *v == '\t') v++;
        if (strncmp(v, word, strlen(word)) == 0) return 1;
    }
    return 0;
}

static void register_and_show(void)
{
    make_account("alice", key_a, addr_a);
    make_account("bob", key_b, addr_b);
    snprintf(file1, sizeof file1, "%s/data.csv", H.dir);
    snprintf(file2, sizeof file2, "%s/code.py", H.dir);
    write_file(file1, "x,y\n1,2\n");
    write_file(file2, "print('analysis')\n");
    char contrib[128];
    snprintf(contrib, sizeof contrib, "%s:data-curation,investigation", addr_a);
    const char *r1[] = { "object", "register", file1, "--kind", "dataset", "--title", "Field data 2026",
                         "--license", "cc-by-4.0", "--uri", "doi:10.5555/field.2026",
                         "--contributor", contrib, "--key", key_a, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(r1), 0);
    CHECK_EQ_INT(id_from_out(obj1), 0);
    /* the same file again, by bob, as a derived analysis: allowed, not first */
    char link[80];
    snprintf(link, sizeof link, "derived-from:%s", obj1);
    const char *r2[] = { "object", "register", file2, file1, "--kind", "analysis", "--title", "Analysis",
                         "--license", "MIT", "--link", link, "--key", key_b, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(r2), 0);
    CHECK_EQ_INT(id_from_out(obj2), 0);
    const char *s1[] = { "object", "show", obj1, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(s1), 0);
    CHECK(strstr(out, "Field data 2026") && strstr(out, "CC-BY-4.0") && strstr(out, "(first registration)"));
    CHECK(strstr(out, "data-curation investigation") != NULL);
    CHECK(strstr(out, "cited_by      1") != NULL);
    const char *s2[] = { "object", "show", obj2, "--json", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(s2), 0);
    CHECK(has_first("false") && has_first("true"));              /* file1 not first, file2 first */
    const char *f1[] = { "object", "first", file1, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(f1), 0);
    CHECK(strstr(out, obj1) && strstr(out, addr_a));
    CHECK(strstr(out, "registered 2 times") && strstr(out, obj2));   /* and bob's, later */
}

static void versions_and_maintainers(void)
{
    char id2[64];
    write_file(file1, "x,y\n1,2\n3,4\n");
    const char *v_bob[] = { "object", "version", obj1, file1, "--key", key_b, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(v_bob), 1);                                  /* bob does not control it */
    const char *add[] = { "object", "maintainer", "add", obj1, addr_b, "--key", key_a, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(add), 0);
    CHECK_EQ_INT(cli(v_bob), 0);                                  /* now he does */
    snprintf(id2, sizeof id2, "%s@v2", obj1);
    const char *s[] = { "object", "show", id2, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(s), 0);
    CHECK(strstr(out, "versions      2") && strstr(out, addr_b));
    CHECK(strstr(out, "Field data 2026") != NULL);                /* title kept from v1 */
    snprintf(id2, sizeof id2, "%s@v3", obj1);
    const char *s3[] = { "object", "show", id2, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(s3), 1);                                     /* no such version */
    const char *up[] = { "object", "upstream", obj2, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(up), 0);
    CHECK(strstr(out, "-[derived-from]->") && strstr(out, obj1));
}

static void refusals(void)
{
    char link[80];
    const char *lic[] = { "object", "register", file1, "--kind", "dataset", "--title", "T", "--license",
                          "Not-A-License", "--key", key_a, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(lic), 2);
    const char *role[] = { "object", "register", file1, "--kind", "dataset", "--title", "T", "--license",
                           "MIT", "--contributor", "pel1nothing:writing", "--key", key_a, "--rpc", H.url, NULL };
    CHECK(cli(role) != 0);
    snprintf(link, sizeof link, "cites:pel:obj:%032d", 7);
    const char *ghost[] = { "object", "register", file1, "--kind", "dataset", "--title", "T", "--license",
                            "MIT", "--link", link, "--key", key_a, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(ghost), 1);                                  /* committed, failed: unknown target */
    const char *nofile[] = { "object", "register", "/nonexistent/file", "--kind", "dataset", "--title", "T",
                             "--license", "MIT", "--key", key_a, "--rpc", H.url, NULL };
    CHECK(cli(nofile) != 0);
    const char *badid[] = { "object", "show", "pel:obj:zz", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(badid), 2);
}

/* Preregistration through the CLI: commit (reveal file 0600, never
 * overwritten), a reveal by someone else under embargo refused, the
 * registrant's reveal, results with a switched outcome flagged, status. */
static void preregistration(void)
{
    char proto[300], save[300], pid[64] = "";
    snprintf(proto, sizeof proto, "%s/protocol.md", H.dir);
    snprintf(save, sizeof save, "%s/reveal.json", H.dir);
    write_file(proto, "# Protocol\nPrimary: HbA1c at 12 weeks.\n");
    const char *c[] = { "prereg", "commit", "--protocol", proto, "--outcome", "HbA1c at 12 weeks",
                        "--outcome", "adverse events", "--embargo-height", "100000", "--save", save,
                        "--key", key_a, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(c), 0);
    const char *p = strstr(out, "pel:prereg:");
    CHECK(p != NULL);
    if (p) snprintf(pid, sizeof pid, "%.43s", p);
    struct stat st;
    CHECK(stat(save, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_EQ_INT(cli(c), 1);                                        /* --save exists: refused */
    const char *rb[] = { "prereg", "reveal", save, "--key", key_b, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(rb), 1);                                       /* embargo: not bob */
    const char *ra[] = { "prereg", "reveal", save, "--key", key_a, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(ra), 0);
    const char *res[] = { "prereg", "results", pid, "--object", obj1, "--outcome", "HbA1c at 12 weeks",
                          "--outcome", "weight", "--key", key_a, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(res), 0);
    const char *stt[] = { "prereg", "status", pid, "completed", "--key", key_a, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(stt), 0);
    const char *show[] = { "prereg", "show", pid, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(show), 0);
    CHECK(strstr(out, "OUTCOME-SWITCHED") && strstr(out, "  added           weight") &&
          strstr(out, "  dropped         adverse events") && strstr(out, "completed"));
}

/* Peer review: a non-author reviews a version (a review object appears);
 * the creator may not; the same reviewer twice is refused. */
static void peer_review(void)
{
    char key_c[300], addr_c[64], text[300], ver[64], rid[48];
    make_account("carol", key_c, addr_c);
    snprintf(text, sizeof text, "%s/review.md", H.dir);
    write_file(text, "The analysis is sound; please add a power calculation.\n");
    snprintf(ver, sizeof ver, "%s@v2", obj1);
    const char *rv[] = { "review", "submit", ver, "--recommendation", "minor", "--text", text,
                         "--competing-interests", "none", "--key", key_c, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(rv), 0);
    CHECK_EQ_INT(id_from_out(rid), 0);
    CHECK_EQ_INT(cli(rv), 1);                                       /* twice */
    const char *ra[] = { "review", "submit", ver, "--recommendation", "accept", "--text", text,
                         "--key", key_a, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(ra), 1);                                       /* the creator */
    const char *sh[] = { "review", "show", rid, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(sh), 0);
    CHECK(strstr(out, "minor") && strstr(out, ver) && strstr(out, addr_c));
    const char *so[] = { "object", "show", rid, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(so), 0);
    CHECK(strstr(out, "review") && strstr(out, "-") && strstr(out, "reviews"));
}

/* Downstream (what builds on obj1: bob's analysis, carol's review),
 * contributions by address, and a licence bought through the CLI. */
static void provenance_and_licences(void)
{
    const char *down[] = { "object", "downstream", obj1, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(down), 0);
    CHECK(strstr(out, obj2) && strstr(out, "-[derived-from]->") && strstr(out, "-[reviews]->"));
    const char *down2[] = { "object", "downstream", obj2, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(down2), 0);
    CHECK_EQ_INT((int)strlen(out), 0);                            /* nothing builds on it */
    const char *ctb[] = { "object", "contributions", addr_a, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(ctb), 0);
    CHECK(strstr(out, obj1) && strstr(out, "data-curation investigation") && strstr(out, "@v1"));
    const char *bad_addr[] = { "object", "contributions", "pel1nothing", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(bad_addr), 2);
    /* licence: only a controller may set terms; a buyer pays the parties */
    char party[100];
    snprintf(party, sizeof party, "%s:10000", addr_a);
    const char *set_b[] = { "license", "set", obj1, "--price", "700", "--party", party, "--key", key_b,
                            "--wait", "--rpc", H.url, NULL };
    const char *buy_early[] = { "license", "buy", obj1, "--key", key_b, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(buy_early), 1);                               /* no terms yet */
    char key_c[300], addr_c[64];
    make_account("dave", key_c, addr_c);
    const char *set_c[] = { "license", "set", obj1, "--price", "700", "--party", party, "--key", key_c,
                            "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(set_c), 1);                                   /* dave controls nothing */
    CHECK(strstr(out, "control") != NULL);
    CHECK_EQ_INT(cli(set_b), 0);                                   /* bob is a maintainer */
    const char *low[] = { "license", "buy", obj1, "--max-price", "699", "--key", key_c, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(low), 1);
    CHECK(strstr(out, "maximum") != NULL);
    const char *buy_c[] = { "license", "buy", obj1, "--key", key_c, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(buy_c), 0);
    const char *show[] = { "license", "show", obj1, "--buyer", addr_c, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(show), 0);
    CHECK(strstr(out, "price 700") && strstr(out, "bought 1 time(s)") && strstr(out, "pel prove state"));
    CHECK(strstr(out, addr_a) && strstr(out, "10000 bps"));
    const char *bad_party[] = { "license", "set", obj1, "--price", "1", "--party", "nobody:5000", "--key", key_b, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(bad_party), 2);
    /* shares: bob splits the revenue, gives dave 40 of 100; dave's next
     * purchase (700) is owed 60/40 to them, and dave claims his 280 */
    const char *mk[] = { "shares", "create", obj1, "--shares", "100", "--key", key_b, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(mk), 0);
    CHECK_EQ_INT(cli(mk), 1);                                       /* only one class */
    CHECK(strstr(out, "already has a share class") != NULL);
    const char *give[] = { "shares", "transfer", obj1, "--to", addr_c, "--amount", "40", "--key", key_b,
                           "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(give), 0);
    const char *too_many[] = { "shares", "transfer", obj1, "--to", addr_b, "--amount", "41", "--key", key_c,
                               "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(too_many), 1);
    CHECK_EQ_INT(cli(buy_c), 0);
    const char *sh_c[] = { "shares", "show", obj1, "--holder", addr_c, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(sh_c), 0);
    CHECK(strstr(out, "40 shares, 280 claimable") && strstr(out, "pool_balance  700"));
    const char *cl[] = { "shares", "claim", obj1, "--key", key_c, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(cl), 0);
    CHECK_EQ_INT(cli(sh_c), 0);
    CHECK(strstr(out, "40 shares, 0 claimable") && strstr(out, "pool_balance  420"));
    /* the purchases list in pages of one: next only while another follows */
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "id", obj1);
    cJSON_AddNumberToObject(p, "limit", 1);
    cJSON *pg = h_call(&H, "licence", cJSON_Duplicate(p, 1));
    const cJSON *nx = pg ? cJSON_GetObjectItemCaseSensitive(pg, "next") : NULL;
    CHECK(cJSON_IsObject(nx));
    CHECK(pg && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pg, "purchases")) == 1);
    if (cJSON_IsObject(nx)) cJSON_AddItemToObject(p, "after", cJSON_Duplicate(nx, 1));
    cJSON_Delete(pg);
    pg = h_call(&H, "licence", p);
    CHECK(pg && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pg, "purchases")) == 1);
    CHECK(pg && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(pg, "next")));   /* the last page */
    cJSON_Delete(pg);
}

static char bundle[300], vkey[400];

/* Ask for the prior-art bundle of obj1@v1 while the node runs. */
static void get_bundle(void)
{
    char id[64];
    cJSON *info = h_call(&H, "node_info", NULL);
    snprintf(vkey, sizeof vkey, "%s", info ? h_str(info, "verifier_key") : "");
    cJSON_Delete(info);
    CHECK(vkey[0] != 0);
    snprintf(bundle, sizeof bundle, "%s/bundle.json", H.dir);
    snprintf(id, sizeof id, "%s@v1", obj1);
    const char *pr[] = { "object", "proof", id, "--out", bundle, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(pr), 0);
}

/* Check it with the node stopped: the original file, another file, a
 * tampered bundle; the Python verifier agrees when it is there. */
static void bundle_offline(void)
{
    char orig[300], other[300], bad[300], cmd[1400];
    snprintf(orig, sizeof orig, "%s/original.csv", H.dir);
    snprintf(other, sizeof other, "%s/other.csv", H.dir);
    snprintf(bad, sizeof bad, "%s/bad.json", H.dir);
    write_file(orig, "x,y\n1,2\n");                    /* file1's content at v1 */
    write_file(other, "x,y\n1,3\n");
    const char *ok[] = { "verify", bundle, "--key", vkey, "--file", orig, NULL };
    CHECK_EQ_INT(cli(ok), 0);
    CHECK(strstr(out, "the first registration of this content") && strstr(out, addr_a) && strstr(out, obj1));
    const char *no[] = { "verify", bundle, "--key", vkey, "--file", other, NULL };
    CHECK_EQ_INT(cli(no), 1);
    CHECK(strstr(out, "not among the object's") != NULL);
    /* one digit of the transaction changed: the proof no longer holds */
    snprintf(cmd, sizeof cmd, "sed 's/\\(\"tx\": \"..........\\)0/\\11/; t; s/\\(\"tx\": \"..........\\)./\\10/' '%s' > '%s'", bundle, bad);
    CHECK_EQ_INT(system(cmd), 0);
    const char *tam[] = { "verify", bad, "--key", vkey, "--file", orig, NULL };
    CHECK_EQ_INT(cli(tam), 1);
    if (system("python3 -c 1 >/dev/null 2>&1") == 0 && access("tools/pelverify.py", R_OK) == 0) {
        snprintf(cmd, sizeof cmd, "python3 tools/pelverify.py verify '%s' --key '%s' --file '%s' 2>/dev/null | grep -q 'the first registration'", bundle, vkey, orig);
        CHECK_EQ_INT(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "python3 tools/pelverify.py verify '%s' --key '%s' --file '%s' >/dev/null", bundle, vkey, other);
        CHECK(system(cmd) != 0);
        snprintf(cmd, sizeof cmd, "python3 tools/pelverify.py verify '%s' --key '%s' --file '%s' >/dev/null", bad, vkey, orig);
        CHECK(system(cmd) != 0);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    if (h_init(&H, argv[0], "objects-chain")) { fprintf(stderr, "cannot set up\n"); return 1; }
    const char *extra[] = { "--block-interval-ms", "20", NULL };
    if (h_start(&H, extra) || h_wait_ready(&H, 20)) {
        fprintf(stderr, "node did not start\n");
        CHECK(0);
    } else {
        RUN(register_and_show);
        RUN(versions_and_maintainers);
        RUN(refusals);
        RUN(preregistration);
        RUN(peer_review);
        RUN(provenance_and_licences);
        RUN(get_bundle);
        const char *v[] = { "admin", "verify", "--dir", H.dir, NULL };
        CHECK_EQ_INT(h_stop(&H, SIGTERM), 0);
        CHECK_EQ_INT(cli(v), 0);                                   /* the replay agrees */
        RUN(bundle_offline);
    }
    h_cleanup(&H);
    return TEST_END("test_objects");
}
