/*
 * test_config.c - config.json of a node directory: defaults, a written
 * config read back, and values out of range refused with the field named.
 * (Covers the pipeline's max_commit_group and the state tree's
 * prune_interval; the other fields are exercised
 * by every node test that writes a config.) Also the data path helper.
 */
#include "test.h"
#include "tmpdir.h"

#include "node/config.h"

static void write_file(const char *dir, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void defaults_and_roundtrip(void)
{
    char *dir = test_tmpdir("pel-config-");
    char err[256];
    pel_node_config c = pel_node_config_defaults(), back;
    CHECK_EQ_INT(c.max_commit_group, 1);
    CHECK_EQ_INT(c.state_prune_interval, 8);
    c.max_commit_group = 9;
    c.max_block_txs = 777;
    c.state_prune_interval = 3;
    CHECK_EQ_INT(pel_node_config_write(dir, &c), 0);
    CHECK_EQ_INT(pel_node_config_load(dir, &back, err, sizeof err), 0);
    CHECK_EQ_INT(back.max_commit_group, 9);
    CHECK_EQ_INT(back.max_block_txs, 777);
    CHECK_EQ_INT(back.state_prune_interval, 3);
    test_rmdir_all(dir);
}

static void commit_group_range(void)
{
    char *dir = test_tmpdir("pel-config-");
    char err[256];
    pel_node_config c;
    write_file(dir, "{ \"max_commit_group\": 1 }");
    CHECK_EQ_INT(pel_node_config_load(dir, &c, err, sizeof err), 0);
    CHECK_EQ_INT(c.max_commit_group, 1);
    write_file(dir, "{ \"max_commit_group\": 64 }");
    CHECK_EQ_INT(pel_node_config_load(dir, &c, err, sizeof err), 0);
    CHECK_EQ_INT(c.max_commit_group, 64);
    const char *bad[] = { "{ \"max_commit_group\": 0 }", "{ \"max_commit_group\": 65 }",
                          "{ \"max_commit_group\": \"four\" }", "{ \"max_commit_group\": 2.5 }", "{ \"max_commit_group\": -1 }" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_file(dir, bad[i]);
        err[0] = 0;
        CHECK_EQ_INT(pel_node_config_load(dir, &c, err, sizeof err), PEL_EINVAL);
        CHECK(strstr(err, "max_commit_group") != NULL);
    }
    test_rmdir_all(dir);
}

static void prune_interval_range(void)
{
    char *dir = test_tmpdir("pel-config-");
    char err[256];
    pel_node_config c;
    write_file(dir, "{ \"state\": { \"prune_interval\": 1 } }");
    CHECK_EQ_INT(pel_node_config_load(dir, &c, err, sizeof err), 0);
    CHECK_EQ_INT(c.state_prune_interval, 1);
    write_file(dir, "{ \"state\": { \"prune_interval\": 1000000 } }");
    CHECK_EQ_INT(pel_node_config_load(dir, &c, err, sizeof err), 0);
    CHECK_EQ_INT(c.state_prune_interval, 1000000);
    const char *bad[] = { "{ \"state\": { \"prune_interval\": 0 } }",
                          "{ \"state\": { \"prune_interval\": 1000001 } }",
                          "{ \"state\": { \"prune_interval\": 2.5 } }",
                          "{ \"state\": { \"prune_interval\": -8 } }" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_file(dir, bad[i]);
        err[0] = 0;
        CHECK_EQ_INT(pel_node_config_load(dir, &c, err, sizeof err), PEL_EINVAL);
        CHECK(strstr(err, "state.prune_interval") != NULL);
    }
    test_rmdir_all(dir);
}

/* DIR/data, and a directory whose path would not fit is refused rather
 * than truncated into another directory's name */
static void data_path(void)
{
    char buf[16];
    CHECK_EQ_INT(pel_node_data_path("devnet", buf, sizeof buf), 0);
    CHECK(strcmp(buf, "devnet/data") == 0);
    CHECK_EQ_INT(pel_node_data_path("/tmp/abcd", buf, sizeof buf), 0);   /* 14 + NUL: fits */
    CHECK(strcmp(buf, "/tmp/abcd/data") == 0);
    CHECK_EQ_INT(pel_node_data_path("/tmp/abcdefg", buf, sizeof buf), PEL_EINVAL);
    char err[256] = "";
    static char longdir[5000];
    memset(longdir, 'a', sizeof longdir - 1);
    longdir[0] = '/';
    CHECK(pel_node_init_dir(longdir, "x", 1, 0, err, sizeof err) != 0);   /* refused, no crash */
    CHECK(err[0] != 0);
}

int main(void)
{
    RUN(defaults_and_roundtrip);
    RUN(commit_group_range);
    RUN(prune_interval_range);
    RUN(data_path);
    return TEST_END("test_config");
}
