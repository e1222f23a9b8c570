/* test_hex.c - hex encoding, round trips and strict decoding. */
#include "core/hex.h"
#include "test.h"

static void encodes_lowercase(void)
{
    char out[2 * 4 + 1];
    pel_hex_encode("\x00\x9f\xab\xff", 4, out);
    CHECK(strcmp(out, "009fabff") == 0);
    pel_hex_encode(NULL, 0, out);
    CHECK(out[0] == '\0');
}

static void all_bytes_round_trip(void)
{
    uint8_t in[256], back[256];
    char hex[2 * 256 + 1];
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)i;
    pel_hex_encode(in, sizeof in, hex);
    size_t n = 0;
    CHECK_EQ_INT(pel_hex_decode(hex, 512, back, sizeof back, &n), 0);
    CHECK_EQ_INT(n, 256);
    CHECK_MEM(in, back, 256);
}

static void uppercase_accepted(void)
{
    uint8_t out[2];
    size_t n = 0;
    CHECK_EQ_INT(pel_hex_decode("AbCd", 4, out, sizeof out, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK(out[0] == 0xab && out[1] == 0xcd);
}

static void invalid_input_rejected(void)
{
    static const char *bad[] = {"abc", "0g", "zz", " 0", "0x00", "12-4",
                                "\xff\x30", "0:"};
    uint8_t out[8] = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = 5;
        CHECK_EQ_INT(pel_hex_decode(bad[i], strlen(bad[i]), out, sizeof out,
                                    &n), PEL_EHEX);
        CHECK_EQ_INT(n, 0);
    }
    /* a bad digit late in the string leaves the output cleared */
    size_t n = 5;
    CHECK_EQ_INT(pel_hex_decode("ffffzz", 6, out, sizeof out, &n), PEL_EHEX);
    CHECK(out[0] == 0 && out[1] == 0);
    /* an embedded NUL inside hexlen is not a digit */
    CHECK_EQ_INT(pel_hex_decode("0\0", 2, out, sizeof out, &n), PEL_EHEX);
}

/* Every byte value in either place of a pair: a digit exactly when it is
 * one of [0-9a-fA-F], with its value (the decoder uses a table). */
static void every_byte_classified(void)
{
    for (int c = 0; c < 256; c++) {
        int v = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        char hi[2] = { (char)c, '7' }, lo[2] = { '7', (char)c };
        uint8_t out[1];
        size_t n = 5;
        CHECK_EQ_INT(pel_hex_decode(hi, 2, out, 1, &n), v < 0 ? PEL_EHEX : 0);
        if (v >= 0) CHECK_EQ_INT(out[0], v << 4 | 7);
        else CHECK_EQ_INT(out[0], 0);
        CHECK_EQ_INT(pel_hex_decode(lo, 2, out, 1, &n), v < 0 ? PEL_EHEX : 0);
        if (v >= 0) CHECK_EQ_INT(out[0], 7 << 4 | v);
        else CHECK_EQ_INT(n, 0);
    }
}

static void small_output_is_erange(void)
{
    uint8_t out[1];
    size_t n = 5;
    CHECK_EQ_INT(pel_hex_decode("0102", 4, out, sizeof out, &n), PEL_ERANGE);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(pel_hex_decode("", 0, out, 0, &n), 0);
    CHECK_EQ_INT(n, 0);
}

int main(void)
{
    RUN(encodes_lowercase);
    RUN(all_bytes_round_trip);
    RUN(uppercase_accepted);
    RUN(invalid_input_rejected);
    RUN(every_byte_classified);
    RUN(small_output_is_erange);
    return TEST_END("test_hex");
}
