/*
 * test_loadgen.c - `pel loadgen` against a real node, and the in-memory
 * science benchmark: the open-science mix (src/cli/science_gen.h) is
 * correct, not fast. Nothing here measures time.
 *
 * Checks: `pel loadgen --workload science` sets up its world and then gets
 * every transaction of the stream committed with a successful receipt;
 * the chain then holds what the mix promises (citations of a popular
 * object, new versions, preregistration commits, reviews by non-authors);
 * `--workload mixed` with the same key seed reuses the accounts and also
 * succeeds throughout; a bad --workload is a usage error;
 * `pel bench exec --workload science` (Block-STM against sequential,
 * which fails on any difference) passes with every transaction successful.
 */
#include "cli/loadgen_plan.h"
#include "exec/engine.h"
#include "test.h"
#include "node_harness.h"

static harness H;
static char out[1 << 16];

/* The stream's promise (loadgen_plan.h): each sender's transactions sit in
 * batches of one submitting thread only (so they leave in nonce order),
 * every sender is used, and a thread's senders share its batches round-robin. */
static void stream_order(void)
{
    static const uint32_t ks[] = { 1, 3, 8, 256, 257 }, ts[] = { 1, 2, 3, 8 }, bs[] = { 1, 7, 256 };
    int32_t thread_of[257];
    uint32_t count[257];
    for (size_t a = 0; a < sizeof ks / sizeof *ks; a++)
        for (size_t c = 0; c < sizeof ts / sizeof *ts; c++)
            for (size_t d = 0; d < sizeof bs / sizeof *bs; d++) {
                uint32_t k = ks[a], t = ts[c], b = bs[d], n = 2 * k * b + 5, bad = 0;
                if (t > k) continue;
                for (uint32_t s = 0; s < k; s++) { thread_of[s] = -1; count[s] = 0; }
                for (uint32_t i = 0; i < n && !bad; i++) {
                    uint32_t s = pel_lg_stream_sender(k, t, b, i), th = i / b % t;
                    if (s >= k) { bad = 1; break; }
                    if (thread_of[s] < 0) thread_of[s] = (int32_t)th;
                    bad = thread_of[s] != (int32_t)th;
                    count[s]++;
                }
                /* all used; round-robin within a thread's senders (s mod T) */
                for (uint32_t s = 0; s < k && !bad; s++)
                    bad = count[s] == 0 || count[s] + 1 < count[s % t] || count[s] > count[s % t] + 1;
                if (bad) fprintf(stderr, "  stream_order: K %u T %u B %u\n", k, t, b);
                CHECK(!bad);
            }
}

/* loadgen - run pel loadgen with a workload; its JSON report, or NULL. */
static cJSON *loadgen(const char *workload, const char *rate, const char *duration, const char *senders)
{
    const char *args[] = { "loadgen", "--rpc", H.url, "--workload", workload, "--rate", rate,
                           "--duration", duration, "--senders", senders, "--key-seed", "test-loadgen",
                           "--json", NULL };
    int rc = h_run(&H, out, sizeof out, args);
    CHECK_EQ_INT(rc, 0);
    cJSON *r = cJSON_Parse(out);
    if (!r) fprintf(stderr, "loadgen printed: %s\n", out);
    CHECK(r != NULL);
    return r;
}

/* all_succeeded - every submitted transaction committed and succeeded. */
static void all_succeeded(const cJSON *r, const char *workload, double n)
{
    CHECK(!strcmp(h_str(r, "workload"), workload));
    CHECK_EQ_INT(h_num(r, "submitted"), n);
    CHECK_EQ_INT(h_num(r, "accepted"), n);
    CHECK_EQ_INT(h_num(r, "rejected"), 0);
    CHECK_EQ_INT(h_num(r, "committed"), n);
    CHECK_EQ_INT(h_num(r, "succeeded"), n);
    CHECK_EQ_INT(h_num(r, "failed"), 0);
    CHECK(h_num(r, "success_ratio") == 1.0);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "failures")), 0);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "rejections")), 0);
}

typedef struct seen {
    int prereg_commits, versions, reviews, cited_popular;
} seen;

/* check_review - if object id is a review, check it against what it
 * reviews: a popular object of the mix, cited, not by its reviewer. */
static void check_review(const char *id, seen *s)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "id", id);
    cJSON *rv = h_call(&H, "review", p);
    if (!rv) return;                          /* not a review */
    s->reviews++;
    char target[64];
    snprintf(target, sizeof target, "%s", h_str(rv, "reviews"));
    char *at = strchr(target, '@');
    CHECK(at != NULL);
    if (at) snprintf(at, sizeof target - (size_t)(at - target), "@v1");   /* as registered */
    p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "id", target);
    cJSON *obj = h_call(&H, "object", p);
    CHECK(obj != NULL);
    CHECK(obj && !strcmp(h_str(obj, "title"), "Popular benchmark object"));
    CHECK(obj && strcmp(h_str(obj, "creator"), h_str(rv, "reviewer")) != 0);
    if (obj && h_num(obj, "cited_by") > 0) s->cited_popular++;
    cJSON_Delete(obj);
    cJSON_Delete(rv);
}

/* scan - every block's receipts: count what the mix left on the chain
 * (looking up at most a few review objects). */
static void scan(seen *s)
{
    cJSON *info = h_call(&H, "node_info", NULL);
    int top = info ? (int)h_num(info, "height") : 0;
    cJSON_Delete(info);
    for (int h = 1; h <= top; h++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "height", h);
        cJSON_AddTrueToObject(p, "receipts");
        cJSON *b = h_call(&H, "block", p), *tx, *ev;
        CHECK(b != NULL);
        cJSON_ArrayForEach(tx, cJSON_GetObjectItemCaseSensitive(b, "txs")) {
            const cJSON *rec = cJSON_GetObjectItemCaseSensitive(tx, "receipt");
            cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(rec, "events")) {
                const char *kind = h_str(ev, "kind");
                if (!strcmp(kind, "prereg") && !strcmp(h_str(ev, "op"), "commit")) s->prereg_commits++;
                if (!strcmp(kind, "object") && h_num(ev, "version") >= 2) s->versions++;
                if (!strcmp(kind, "object") && h_num(ev, "version") == 1 && s->reviews < 3)
                    check_review(h_str(ev, "id"), s);
            }
        }
        cJSON_Delete(b);
    }
}

static void science_workload(void)
{
    cJSON *r = loadgen("science", "200", "2", "8");
    if (!r) return;
    all_succeeded(r, "science", 400);
    CHECK_EQ_INT(h_num(r, "popular"), 4);
    cJSON_Delete(r);
    seen s = { 0 };
    scan(&s);
    /* 400 draws of the mix: each line is 15% or more, so none is absent */
    CHECK(s.prereg_commits > 10);
    CHECK(s.versions > 10);
    CHECK_EQ_INT(s.reviews, 3);
    CHECK_EQ_INT(s.cited_popular, 3);
}

static void mixed_workload_reuses_accounts(void)
{
    cJSON *r = loadgen("mixed", "200", "1", "8");
    if (r) all_succeeded(r, "mixed", 200);
    cJSON_Delete(r);
}

static void bad_workload(void)
{
    const char *a[] = { "loadgen", "--rpc", H.url, "--workload", "lottery", NULL };
    CHECK_EQ_INT(h_run(&H, NULL, 0, a), 2);
    const char *b[] = { "bench", "exec", "--workload", "lottery", NULL };
    CHECK_EQ_INT(h_run(&H, NULL, 0, b), 2);
}

/* The in-memory benchmark compares Block-STM with the sequential engine
 * byte for byte and fails on a difference. */
static void bench_science(void)
{
    const char *a[] = { "bench", "exec", "--workload", "science", "--runs", "1", "--txs", "500",
                        "--senders", "100", "--json", NULL };
    CHECK_EQ_INT(h_run(&H, out, sizeof out, a), 0);
    cJSON *r = cJSON_Parse(out);
    CHECK(r != NULL);
    CHECK(r && !strcmp(h_str(r, "workload"), "science"));
    CHECK(r && h_num(r, "ok_ratio") == 1.0);
    const cJSON *mix = cJSON_GetObjectItemCaseSensitive(r, "mix");
    CHECK(h_num(mix, "cite") + h_num(mix, "register") + h_num(mix, "version") + h_num(mix, "review") +
          h_num(mix, "prereg") == 500);
    CHECK(h_num(mix, "review") > 0);
    /* minima and Block-STM's phases (the execution phase of a 500-tx block
     * takes time; the minimum is no more than the median) */
    CHECK(r && h_num(r, "par_ms_min") > 0 && h_num(r, "par_ms_min") <= h_num(r, "par_ms"));
    CHECK(r && h_num(r, "seq_ms_min") > 0 && h_num(r, "seq_ms_min") <= h_num(r, "seq_ms"));
    const cJSON *pm = cJSON_GetObjectItemCaseSensitive(r, "phases_ms_median");
    const cJSON *pn = cJSON_GetObjectItemCaseSensitive(r, "phases_ms_min");
    CHECK(h_num(pm, "execute") > 0 && h_num(pn, "execute") <= h_num(pm, "execute"));
    CHECK(cJSON_GetArraySize(pm) == PEL_PHASES && cJSON_GetArraySize(pn) == PEL_PHASES);
    CHECK(h_num(pm, "setup") + h_num(pm, "materialise") + h_num(pm, "write_set") > 0);
    cJSON_Delete(r);
}

/* pel bench exec (transfers): minima, and phases for Block-STM only */
static void bench_exec_phases(void)
{
    const char *a[] = { "bench", "exec", "--runs", "3", "--txs", "500", "--json", NULL };
    CHECK_EQ_INT(h_run(&H, out, sizeof out, a), 0);
    cJSON *r = cJSON_Parse(out);
    CHECK(r != NULL);
    CHECK(r && h_num(r, "seconds_min") > 0 && h_num(r, "seconds_min") <= h_num(r, "seconds_median"));
    CHECK(r && h_num(r, "sequential_seconds_min") > 0);
    const cJSON *pm = cJSON_GetObjectItemCaseSensitive(r, "phases_ms_median");
    CHECK(h_num(pm, "execute") > 0);
    CHECK(h_num(pm, "sequential_tail") == 0);   /* no fallback in a plain transfer block */
    /* the phases are parts of the engine's time */
    CHECK(r && h_num(pm, "setup") + h_num(pm, "execute") + h_num(pm, "materialise") + h_num(pm, "write_set")
                   <= 1e3 * h_num(r, "seconds_median") * 1.5 + 0.1);
    cJSON_Delete(r);

    const char *d[] = { "bench", "exec", "--runs", "1", "--txs", "200", "--engine", "declared", "--json", NULL };
    CHECK_EQ_INT(h_run(&H, out, sizeof out, d), 0);
    r = cJSON_Parse(out);
    CHECK(r != NULL);
    CHECK(r && cJSON_GetObjectItemCaseSensitive(r, "phases_ms_median") == NULL);
    cJSON_Delete(r);
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    stream_order();
    if (h_init(&H, argv[0], "loadgen-chain")) { fprintf(stderr, "cannot set up\n"); return 1; }
    if (h_start(&H, NULL) || h_wait_ready(&H, 20)) {
        fprintf(stderr, "node did not start\n");
        CHECK(0);
    } else {
        RUN(science_workload);
        RUN(mixed_workload_reuses_accounts);
        RUN(bad_workload);
        RUN(bench_science);
        RUN(bench_exec_phases);
    }
    h_cleanup(&H);
    return TEST_END("test_loadgen");
}
