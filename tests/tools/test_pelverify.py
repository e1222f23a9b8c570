#!/usr/bin/env python3
"""Tests of tools/pelverify.py, the independent Python verifier.

Run: python3 tests/tools/test_pelverify.py   (from anywhere)
The last line is "test_pelverify: N passed, N failed"; the exit status is
non-zero if anything failed.

Covers: Ed25519 (RFC 8032 section 7.1 vectors, PEL's strictness rules),
signed notes and verifier keys (the golden checkpoint of docs/PROOFS.md,
tampering, the acceptance rules of checkpoint.h), checkpoint parsing, the
RFC 9162 inclusion and consistency algorithms against a recursive reference
written here from the RFC's definitions, the history leaf encoding, the
command line, and - where build/libpel.a and a C compiler exist - agreement
with PEL's C verifier fault for fault (a helper program compiled into a
temporary directory at test time).
"""

import base64
import hashlib
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import pelverify as pv  # noqa: E402

PASSED = 0
FAILED = 0


def check(cond, what):
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL: %s" % what)


def raises(fn, code, what):
    """fn() must raise pv.VerifyError with .code == code."""
    try:
        fn()
    except pv.VerifyError as e:
        check(e.code == code, "%s: got %s (%s), want %s" % (what, e.code, e.detail, code))
        return
    except Exception as e:  # noqa: BLE001
        check(False, "%s: raised %r, want %s" % (what, e, code))
        return
    check(False, "%s: accepted, want %s" % (what, code))


def code_of(fn):
    try:
        fn()
    except pv.VerifyError as e:
        return e.code
    return "PEL_OK"


# ---------------------------------------------------------------- data

RFC8032 = [  # name, seed, public key, message, signature (RFC 8032 section 7.1)
    ("TEST 1",
     "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
     "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("TEST 2",
     "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
     "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("TEST 3",
     "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
     "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ("TEST 1024",
     "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
     "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
     "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"
     "fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"
     "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
     "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"
     "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"
     "ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
     "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
     "efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7"
     "aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
     "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2"
     "d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
     "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
     "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"
     "2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"
     "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
     "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a"
     "ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e"
     "c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
     "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c"
     "42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8"
     "ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
     "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
     "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649"
     "de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
     "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3"
     "2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e"
     "6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
     "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"
     "0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1"
     "369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
     "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c"
     "0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0",
     "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350"
     "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03"),
    ("TEST SHA(abc)",
     "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     hashlib.sha512(b"abc").hexdigest(),
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
     "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
]

# docs/PROOFS.md section 1: the golden checkpoint (seed 0x01 x 32), signed by
# PEL's C code, and its verifier key.
GOLDEN_TEXT = (
    "pel-devnet/pel\n"
    "42\n"
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    "height 7\n"
    "state-root 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
    "timestamp-ms 1700000000123\n")
GOLDEN_NOTE = (GOLDEN_TEXT + "\n\u2014 pel-devnet/pel QS/L1ZrGInJmJYzuC+D7z9rMWHAtUqeWNV2ERqHvQM385c"
               "8LpLXSl7c2H7r+Cp8x0XXS8LLwSaIGxObSij9oCthStA4=\n").encode("utf-8")
GOLDEN_KEY = "pel-devnet/pel+412fcbd5+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"


# ------------------------------------------------- a test-only Ed25519 signer
# Built on pelverify's point arithmetic; it is checked below against the RFC
# 8032 signatures (and, when the C build exists, against libsodium), and is
# needed to make notes with several signers and the edge-case signatures.

def enc(pt):
    x, y, z, _ = pt
    zi = pow(z, pv._P - 2, pv._P)
    x, y = x * zi % pv._P, y * zi % pv._P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def secret_scalar(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def public_key(seed):
    return enc(pv._mul(secret_scalar(seed)[0], pv._B))


def sign(seed, msg):
    a, prefix = secret_scalar(seed)
    pk = enc(pv._mul(a, pv._B))
    r = int.from_bytes(hashlib.sha512(prefix + msg).digest(), "little") % pv._L
    rb = enc(pv._mul(r, pv._B))
    k = int.from_bytes(hashlib.sha512(rb + pk + msg).digest(), "little") % pv._L
    return rb + ((r + k * a) % pv._L).to_bytes(32, "little")


def hram(rb, pk, msg):
    return int.from_bytes(hashlib.sha512(rb + pk + msg).digest(), "little") % pv._L


_TORSION = {}


def torsion_points():
    """The 8 points of small order, found as [L]P for decodable P."""
    if _TORSION:
        return dict(_TORSION)
    pts = _TORSION
    y = 2
    while len(pts) < 8:
        for s in (0, 1):
            p = pv._decode_point((y | (s << 255)).to_bytes(32, "little"))
            if p is not None:
                t = pv._mul(pv._L, p)
                pts[enc(t)] = t
        y += 1
    return dict(pts)


def vkey_of(name, seed):
    pk = public_key(seed)
    return "%s+%s+%s" % (name, pv.note_key_id(name, pk).hex(),
                         base64.b64encode(b"\x01" + pk).decode())


def sig_line(name, seed, text):
    pk = public_key(seed)
    raw = pv.note_key_id(name, pk) + sign(seed, text.encode("utf-8"))
    return "\u2014 %s %s\n" % (name, base64.b64encode(raw).decode())


def make_note(text, signers):
    """text, then a blank line, then one line per (name, seed)."""
    return (text + "\n" + "".join(sig_line(n, s, text) for n, s in signers)).encode("utf-8")


# ------------------------------------------------------------ Ed25519 tests

def test_rfc8032():
    for name, seed, pk, msg, sig in RFC8032:
        seed, pk, msg, sig = (bytes.fromhex(x) for x in (seed, pk, msg, sig))
        check(pv.ed25519_verify(pk, msg, sig), "RFC 8032 %s verifies" % name)
        check(public_key(seed) == pk, "RFC 8032 %s public key (test signer)" % name)
        check(sign(seed, msg) == sig, "RFC 8032 %s signature (test signer)" % name)
        bad = bytearray(msg + b"\x00") if not msg else bytearray(msg)
        bad[0] ^= 1
        check(not pv.ed25519_verify(pk, bytes(bad), sig), "%s: changed message" % name)
        for bit in (0, 100, 255, 256, 300, 511):
            s2 = bytearray(sig)
            s2[bit // 8] ^= 1 << (bit % 8)
            check(not pv.ed25519_verify(pk, msg, bytes(s2)), "%s: sig bit %d" % (name, bit))
        other = bytes.fromhex(RFC8032[([v[0] for v in RFC8032].index(name) + 1) % 5][2])
        check(not pv.ed25519_verify(other, msg, sig), "%s: another key" % name)
        for n in (0, 63, 65):
            check(not pv.ed25519_verify(pk, msg, (sig + b"\0")[:n]), "%s: sig length %d" % (name, n))
        check(not pv.ed25519_verify(pk[:31], msg, sig), "%s: key length 31" % name)
    # every bit of one signature
    seed, pk, msg, sig = (bytes.fromhex(x) for x in RFC8032[2][1:])
    ok = True
    for bit in range(512):
        s2 = bytearray(sig)
        s2[bit // 8] ^= 1 << (bit % 8)
        ok &= not pv.ed25519_verify(pk, msg, bytes(s2))
    check(ok, "TEST 3: every single-bit change of the signature rejected")


EDGE = []   # (name, pk, msg, sig, expected) - also run against C below


def build_edge_cases():
    seed = bytes(range(32))
    a, _ = secret_scalar(seed)
    pk = public_key(seed)
    msg = b"edge"
    sig = sign(seed, msg)
    L = pv._L
    s = int.from_bytes(sig[32:], "little")
    EDGE.append(("valid", pk, msg, sig, True))
    # S >= L: S + L satisfies the equation ([L]B = O) but is not canonical.
    EDGE.append(("S+L", pk, msg, sig[:32] + (s + L).to_bytes(32, "little"), False))
    EDGE.append(("S=L", pk, msg, sig[:32] + L.to_bytes(32, "little"), False))
    EDGE.append(("S high bit", pk, msg, sig[:63] + bytes([sig[63] | 0x80]), False))
    EDGE.append(("S=L-1 (canonical, wrong)", pk, msg, sig[:32] + (L - 1).to_bytes(32, "little"), False))
    tors = torsion_points()
    order8 = [e for e, t in tors.items() if not pv._is_identity(pv._double(pv._double(t)))]
    t8 = tors[order8[0]]
    # small-order A: the equation [r]B = [r]B + [k]T holds when 8 | k.
    r = 12345
    rb = enc(pv._mul(r, pv._B))
    for i in range(1000):
        m = b"order8-%d" % i
        if hram(rb, order8[0], m) % 8 == 0:
            EDGE.append(("small-order A (equation holds)", order8[0], m,
                         rb + r.to_bytes(32, "little"), False))
            break
    # every small-order point as A, with the trivially "valid" (R = [r]B, S = r)
    # when k = 0 mod its order, or else with R = O and S = 0.
    for e in tors:
        EDGE.append(("small-order A %s" % e.hex()[:8], e, msg, bytes([1]) + bytes(63), False))
    # mixed-order A = [a]B + T8: cofactorless equation holds when 8 | k,
    # only the prime-order-subgroup check ([L]A = O) rejects it.
    mixed = enc(pv._add(pv._mul(a, pv._B), t8))
    for i in range(1000):
        m = b"mixed-%d" % i
        k = hram(rb, mixed, m)
        if k % 8 == 0:
            EDGE.append(("mixed-order A (equation holds)", mixed, m,
                         rb + ((r + k * a) % L).to_bytes(32, "little"), False))
            break
    # non-canonical A: y = p + 1 (the identity), with R = [r]B, S = r.
    p = pv._P
    nc_id = (p + 1).to_bytes(32, "little")
    EDGE.append(("non-canonical A (y = p + 1)", nc_id, msg, rb + r.to_bytes(32, "little"), False))
    EDGE.append(("A = -0 (x = 0, sign 1)", (1 | (1 << 255)).to_bytes(32, "little"), msg,
                 rb + r.to_bytes(32, "little"), False))
    EDGE.append(("A = y = p", p.to_bytes(32, "little"), msg, sig, False))
    EDGE.append(("A off curve", (2).to_bytes(32, "little"), msg, sig, False))
    # bad R: the identity with S = k a (equation holds), its non-canonical
    # encodings, a mixed-order R (cofactored equation holds, cofactorless not),
    # R off the curve, R = -0.
    for label, rbytes in (("R = identity", (1).to_bytes(32, "little")),
                          ("R = identity, y = p + 1", nc_id),
                          ("R = -0", (1 | (1 << 255)).to_bytes(32, "little")),
                          ("R order 8", order8[0])):
        k = hram(rbytes, pk, msg)
        EDGE.append((label + " (equation holds)", pk, msg,
                     rbytes + (k * a % L).to_bytes(32, "little"), False))
    rmix = enc(pv._add(pv._mul(r, pv._B), t8))
    k = hram(rmix, pk, msg)
    EDGE.append(("R mixed order (cofactored equation holds)", pk, msg,
                 rmix + ((r + k * a) % L).to_bytes(32, "little"), False))
    EDGE.append(("R off curve", pk, msg, (2).to_bytes(32, "little") + sig[32:], False))
    EDGE.append(("R y = p", pk, msg, p.to_bytes(32, "little") + sig[32:], False))
    # a valid signature by a key whose encoding has the sign bit flipped (-A).
    EDGE.append(("-A", pk[:31] + bytes([pk[31] ^ 0x80]), msg, sig, False))


def test_ed25519_strict():
    build_edge_cases()
    for name, pk, msg, sig, want in EDGE:
        check(pv.ed25519_verify(pk, msg, sig) == want, "edge case %s -> %s" % (name, want))
    # the mixed-order and small-order cases really satisfy their equations,
    # so it is the named rule that rejects them:
    for name, pk, msg, sig, _ in EDGE:
        if "(equation holds)" in name and "A" in name.split("(")[0]:
            A = pv._decode_point(pk) if "non-canonical" not in name else pv._IDENTITY
            R = pv._decode_point(sig[:32])
            k = hram(sig[:32], pk, msg)
            S = int.from_bytes(sig[32:], "little")
            check(pv._same(pv._mul(S, pv._B), pv._add(R, pv._mul(k, A))),
                  "edge case %s: cofactorless equation holds" % name)
    # every encoding with y >= p is rejected as a key; the lenient decoding
    # (y mod p) of some of them is a point.
    p = pv._P
    lenient_points = 0
    all_rejected = True
    for y in range(p, 1 << 255):
        for sgn in (0, 1):
            b = (y | (sgn << 255)).to_bytes(32, "little")
            all_rejected &= pv._decode_point(b) is None and not pv.ed25519_key_valid(b)
            if pv._recover_x(y - p, sgn) is not None:
                lenient_points += 1
    check(all_rejected, "every y >= p encoding rejected")
    # "-0": x = 0 with the sign bit set (y = 1 and y = p - 1) does not decode
    for y in (1, p - 1):
        check(pv._decode_point((y | (1 << 255)).to_bytes(32, "little")) is None,
              "-0 encoding of y = %d rejected" % (y if y == 1 else -1))
        check(pv._decode_point(y.to_bytes(32, "little")) is not None, "+0 encoding decodes")
    check(lenient_points > 0, "some y >= p encodings are points mod p (%d)" % lenient_points)
    # the RFC 8032 keys are valid; the torsion points are not.
    for v in RFC8032:
        check(pv.ed25519_key_valid(bytes.fromhex(v[2])), "%s key valid" % v[0])
    check(len(torsion_points()) == 8, "8 torsion points")
    for e in torsion_points():
        check(not pv.ed25519_key_valid(e), "torsion point %s not a key" % e.hex()[:8])


# --------------------------------------------------------------- note tests

def test_golden():
    key = pv.parse_verifier_key(GOLDEN_KEY)
    check(str(key) == GOLDEN_KEY, "verifier key round trip")
    check(key.pk == public_key(b"\x01" * 32), "golden key is seed 0x01 x 32")
    check(pv.note_key_id("pel-devnet/pel", key.pk).hex() == "412fcbd5", "golden key id")
    text, names = pv.open_note(GOLDEN_NOTE, [GOLDEN_KEY])
    check(text == GOLDEN_TEXT and names == ["pel-devnet/pel"], "golden note opens")
    ck = pv.verify_checkpoint(GOLDEN_NOTE, GOLDEN_KEY)
    check((ck["origin"], ck["size"], ck["root"], ck["height"], ck["state_root"], ck["timestamp_ms"])
          == ("pel-devnet/pel", 42, bytes(range(32)), 7, bytes(range(32, 64)), 1700000000123),
          "golden checkpoint fields")
    # the test signer reproduces the C signature byte for byte
    check(make_note(GOLDEN_TEXT, [("pel-devnet/pel", b"\x01" * 32)]) == GOLDEN_NOTE,
          "golden note reproduced by the test signer")


def tampered_notes(note, xors=(0x01, 0x80, 0x20, 0x7f)):
    """Every single-byte change of `note` by each xor in xors."""
    for i in range(len(note)):
        for x in xors:
            b = bytearray(note)
            b[i] ^= x
            yield i, x, bytes(b)


def test_golden_tamper():
    key = pv.parse_verifier_key(GOLDEN_KEY)
    bad = []
    codes = {}
    n = 0
    for i, x, b in tampered_notes(GOLDEN_NOTE):
        n += 1
        c = code_of(lambda: pv.verify_checkpoint(b, key))
        codes[c] = codes.get(c, 0) + 1
        if c == "PEL_OK":
            bad.append((i, x))
    check(not bad, "every single-byte change (xor 01/80/20/7f) of the golden note rejected "
          "(accepted: %r)" % bad[:5])
    print("  golden tamper: %d changed notes, verdicts %s" % (n, sorted(codes.items())))
    # every byte value at one position of each line of the text, and at the
    # blank line and the dash
    bad = []
    tl = len(GOLDEN_TEXT.encode())
    positions = [0, 16, 19, 60, 70, 82, 140, 148, 160, 161, 163, 165,
                 tl, tl + 1, tl + 3, tl + 5, tl + 25, len(GOLDEN_NOTE) - 3]
    for i in positions:
        for v in range(256):
            if v == GOLDEN_NOTE[i]:
                continue
            b = GOLDEN_NOTE[:i] + bytes([v]) + GOLDEN_NOTE[i + 1:]
            if code_of(lambda: pv.verify_checkpoint(b, key)) == "PEL_OK":
                bad.append((i, v))
    check(not bad, "every byte value at %d positions rejected (%r)" % (len(positions), bad[:5]))
    # truncations and extensions
    for cut in range(len(GOLDEN_NOTE)):
        if code_of(lambda: pv.verify_checkpoint(GOLDEN_NOTE[:cut], key)) == "PEL_OK":
            bad.append(("cut", cut))
    for extra in (b"\n", b" ", b"x", b"\n\n", "\u2014".encode()):
        if code_of(lambda: pv.verify_checkpoint(GOLDEN_NOTE + extra, key)) == "PEL_OK":
            bad.append(("extra", extra))
    check(not bad, "every truncation and extension rejected (%r)" % bad[:5])


def test_note_rules():
    seed_a, seed_b, seed_c = b"\xaa" * 32, b"\xbb" * 32, b"\xcc" * 32
    ka, kb, kc = vkey_of("alice", seed_a), vkey_of("bob", seed_b), vkey_of("carol", seed_c)
    text = "hello\n\nworld\n"           # a text may hold blank lines
    note = make_note(text, [("alice", seed_a), ("bob", seed_b)])
    t, names = pv.open_note(note, [ka])
    check(t == text and names == ["alice"], "unknown key (bob) ignored")
    t, names = pv.open_note(note, [kb, ka])
    check(names == ["alice", "bob"], "two known keys, in line order: %r" % names)
    raises(lambda: pv.open_note(note, [kc]), "PEL_ENOTE_UNVERIFIED", "no known key")
    raises(lambda: pv.open_note(note, []), "PEL_ENOTE_UNVERIFIED", "no keys at all")
    # a known key's bad line rejects even when another known key verified
    bad_b = sig_line("bob", seed_b, "other text\n")
    note2 = (text + "\n" + sig_line("alice", seed_a, text) + bad_b).encode()
    check(pv.open_note(note2, [ka])[1] == ["alice"], "bad line of an unknown key ignored")
    raises(lambda: pv.open_note(note2, [ka, kb]), "PEL_ENOTE_BADSIG", "bad line of a known key")
    # same name, other key id: ignored
    pk_c = public_key(seed_c)
    alias = "%s+%s+%s" % ("bob", pv.note_key_id("bob", pk_c).hex(),
                          base64.b64encode(b"\x01" + pk_c).decode())
    raises(lambda: pv.open_note(note, [alias]), "PEL_ENOTE_UNVERIFIED",
           "same name, other key: line ignored")
    # a line by (name, id) of a known key but signed by another key: BADSIG
    raw = pv.note_key_id("alice", public_key(seed_a)) + sign(seed_b, text.encode())
    forged = (text + "\n\u2014 alice " + base64.b64encode(raw).decode() + "\n").encode()
    raises(lambda: pv.open_note(forged, [ka]), "PEL_ENOTE_BADSIG", "id of alice, sig of bob")
    # known key, signature of the wrong length
    for n in (1, 63, 65, 100):
        raw = pv.note_key_id("alice", public_key(seed_a)) + b"\x00" * n
        nb = (text + "\n\u2014 alice " + base64.b64encode(raw).decode() + "\n").encode()
        raises(lambda: pv.open_note(nb, [ka]), "PEL_ENOTE_BADSIG", "known key, %d-byte sig" % n)
        check(pv.open_note(nb + sig_line("bob", seed_b, text).encode(), [kb])[1] == ["bob"],
              "unknown key, %d-byte sig ignored" % n)
    # repeated lines: counted once; a bad repeat rejects
    la = sig_line("alice", seed_a, text)
    rep = (text + "\n" + la + la).encode()
    check(pv.open_note(rep, [ka])[1] == ["alice"], "repeated line counted once")
    # signature line count: 100 fine, 101 too many
    filler = sig_line("bob", seed_b, text)
    n100 = (text + "\n" + la + filler * 99).encode()
    check(pv.open_note(n100, [ka])[1] == ["alice"], "100 signature lines")
    raises(lambda: pv.open_note((text + "\n" + la + filler * 100).encode(), [ka]),
           "PEL_ENOTE_TOOMANY", "101 signature lines")
    raises(lambda: pv.open_note((text + "\n" + la + "\u2014 x\n" * 100).encode(), [ka]),
           "PEL_ENOTE", "101 lines, the second malformed: that line is the first fault")
    raises(lambda: pv.open_note((text + "\n" + la + filler * 100 + "\u2014 x\n").encode(), [ka]),
           "PEL_ENOTE_TOOMANY", "102 lines, the 102nd malformed: line 101 is the first fault")
    # a name longer than 255 bytes in a signature line is well-formed (Go has
    # no limit) but matches no key: ignored
    long_line = "\u2014 " + "n" * 256 + " " + la.split(" ")[2]
    check(pv.open_note(note + long_line.encode(), [ka])[1] == ["alice"],
          "a 256-byte name in a signature line is ignored")
    raises(lambda: pv.open_note((text + "\n" + long_line).encode(), [ka]),
           "PEL_ENOTE_UNVERIFIED", "only a 256-byte-name line")
    # syntax
    good_b64 = la.split(" ")[2].rstrip("\n")
    cases = [
        ("no final newline", note[:-1]),
        ("no blank line", (text + la).encode()),
        ("no signature line", (text + "\n").encode()),
        ("blank line at the end", note + b"\n"),
        ("hyphen-minus dash", (text + "\n- alice " + good_b64 + "\n").encode()),
        ("en dash", (text + "\n\u2013 alice " + good_b64 + "\n").encode()),
        ("dash without space", (text + "\n\u2014alice " + good_b64 + "\n").encode()),
        ("dash, two spaces", (text + "\n\u2014  alice " + good_b64 + "\n").encode()),
        ("no base64", (text + "\n\u2014 alice\n").encode()),
        ("empty base64", (text + "\n\u2014 alice \n").encode()),
        ("trailing space", (text + "\n\u2014 alice " + good_b64 + " \n").encode()),
        ("unpadded base64", (text + "\n\u2014 alice " + good_b64.rstrip("=") + "\n").encode()),
        ("base64 with stray bits", (text + "\n\u2014 alice " + good_b64[:-2] + "B=\n").encode()
         if good_b64.endswith("A=") else None),
        ("urlsafe base64", (text + "\n\u2014 alice " + good_b64.replace("+", "-").replace("/", "_")
                            + "\n").encode() if ("+" in good_b64 or "/" in good_b64) else None),
        ("4-byte signature blob", (text + "\n\u2014 alice " + base64.b64encode(b"abcd").decode()
                                   + "\n").encode()),
        ("name with +", (text + "\n\u2014 al+ice " + good_b64 + "\n").encode()),
        ("name with NBSP", (text + "\n\u2014 al\u00a0ice " + good_b64 + "\n").encode()),
        ("name with U+3000", (text + "\n\u2014 al\u3000ice " + good_b64 + "\n").encode()),
        ("CR in text", make_note("hello\r\n", [("alice", seed_a)])),
        ("TAB in text", make_note("a\tb\n", [("alice", seed_a)])),
        ("NUL in text", make_note("a\0b\n", [("alice", seed_a)])),
        ("CRLF line ends", note.replace(b"\n", b"\r\n")),
        ("invalid UTF-8", b"\xff" + note),
        ("overlong UTF-8", b"\xc0\xaf" + note),
        ("UTF-8 surrogate", b"\xed\xa0\x80" + note),
        ("empty note", b""),
        ("only newlines", b"\n\n\n"),
    ]
    for what, nb in cases:
        if nb is None:
            continue
        raises(lambda: pv.open_note(nb, [ka]), "PEL_ENOTE", "syntax: " + what)
    # names: 255 bytes is fine; UTF-8 names fine; DEL fine (not below U+0020)
    for nm in ("n" * 255, "\u00e9t\u00e9/pel", "caf\u00e9\u2603", "a\x7fb"):
        k = vkey_of(nm, seed_c)
        nb = make_note(text, [(nm, seed_c)])
        check(pv.open_note(nb, [k])[1] == [nm], "name %r accepted" % nm[:10])
    # the signature covers the text only: another signer may append lines
    check(pv.open_note(note + sig_line("carol", seed_c, "x\n").encode(), [ka])[1] == ["alice"],
          "an unknown key's line appended")
    check(pv.open_note(note, [pv.parse_verifier_key(ka)])[1] == ["alice"], "Verifier objects")


def test_verifier_keys():
    seed = b"\x05" * 32
    pk = public_key(seed)
    good = vkey_of("node/pel", seed)
    check(pv.parse_verifier_key(good).pk == pk, "verifier key parses")
    check(str(pv.Verifier.from_key("node/pel", pk)) == good, "verifier key formats")
    name, kid, b64 = good.split("+", 2)
    t8 = next(e for e in torsion_points() if e != (1).to_bytes(32, "little"))
    cases = [
        ("PEL_EVKEY", "no plus", "node/pel"),
        ("PEL_EVKEY", "one plus", name + "+" + kid),
        ("PEL_EVKEY", "uppercase id", "%s+%s+%s" % (name, kid.upper(), b64)
         if kid != kid.upper() else None),
        ("PEL_EVKEY", "7-digit id", "%s+%s+%s" % (name, kid[:7], b64)),
        ("PEL_EVKEY", "9-digit id", "%s+%s0+%s" % (name, kid, b64)),
        ("PEL_EVKEY", "trailing newline", good + "\n"),
        ("PEL_EVKEY", "trailing space", good + " "),
        ("PEL_EVKEY", "extra padding", good + "="),
        ("PEL_EVKEY", "empty key", "%s+%s+" % (name, kid)),
        ("PEL_EVKEY", "one base64 quantum short", good[:-4]),
        ("PEL_EVKEY_ALG", "algorithm 2 and 32 bytes (algorithm checked first)",
         "%s+%s+%s" % (name, kid, base64.b64encode(b"\x02" + pk[:31]).decode())),
        ("PEL_ENOTE_NAME", "name of 256 bytes", "n" * 256 + "+%s+%s" % (kid, b64)),
        ("PEL_ENOTE_NAME", "name not UTF-8", b"\xff+" + ("%s+%s" % (kid, b64)).encode()),
        ("PEL_EVKEY", "32-byte key", "%s+%s+%s" % (name, kid, base64.b64encode(b"\x01" + pk[:31]).decode())),
        ("PEL_EVKEY_ALG", "key without the algorithm byte (first key byte read as one)",
         "%s+%s+%s" % (name, kid, base64.b64encode(pk).decode()) if pk[0] != 1 else None),
        ("PEL_EVKEY", "34-byte key", "%s+%s+%s" % (name, kid, base64.b64encode(b"\x01" + pk + b"\0").decode())),
        ("PEL_ENOTE_NAME", "empty name", "+%s+%s" % (kid, b64)),
        ("PEL_ENOTE_NAME", "name with space", "no de+%s+%s" % (kid, b64)),
        ("PEL_EVKEY_ALG", "algorithm 2", "%s+%s+%s" % (name, kid, base64.b64encode(b"\x02" + pk).decode())),
        ("PEL_EVKEY_ID", "wrong id", "%s+%08x+%s" % (name, int(kid, 16) ^ 1, b64)),
        ("PEL_EVKEY_ID", "other name", "other+%s+%s" % (kid, b64)),
        ("PEL_EBADKEY", "torsion key", "%s+%s+%s" % (name, pv.note_key_id(name, t8).hex(),
                                                     base64.b64encode(b"\x01" + t8).decode())),
    ]
    for code, what, s in cases:
        if s is not None:
            raises(lambda: pv.parse_verifier_key(s), code, "verifier key: " + what)


# --------------------------------------------------------- checkpoint tests

def ck_text(origin="pel-devnet/pel", size="42", root="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            height="height 7", sr="state-root " + bytes(range(32, 64)).hex(),
            ts="timestamp-ms 1700000000123", extra=None):
    lines = [origin, size, root, height, sr, ts]
    lines = [x for x in lines if x is not None]
    if extra:
        lines += extra
    return "".join(x + "\n" for x in lines)


CKPT_CASES = [  # code, what, text
    ("PEL_OK", "golden", ck_text()),
    ("PEL_OK", "size 0", ck_text(size="0")),
    ("PEL_OK", "size 2^63-1", ck_text(size=str((1 << 63) - 1))),
    ("PEL_OK", "height/time 2^64-1", ck_text(height="height %d" % ((1 << 64) - 1),
                                             ts="timestamp-ms %d" % ((1 << 64) - 1))),
    ("PEL_OK", "height/time 0", ck_text(height="height 0", ts="timestamp-ms 0")),
    ("PEL_OK", "origin without /pel", ck_text(origin="example.com/log")),
    ("PEL_ECKPT", "no final newline", ck_text()[:-1]),
    ("PEL_ECKPT", "empty", ""),
    ("PEL_ECKPT", "empty line", ck_text(extra=[""])),
    ("PEL_ECKPT", "empty first line", "\n" + ck_text()),
    ("PEL_ECKPT", "two lines", "pel-devnet/pel\n42\n"),
    ("PEL_ECKPT", "CR", ck_text().replace("\n", "\r\n")),
    ("PEL_ECKPT", "TAB", ck_text(height="height\t7")),
    ("PEL_ECKPT_ORIGIN", "origin with space", ck_text(origin="pel devnet/pel")),
    ("PEL_ECKPT_ORIGIN", "origin with +", ck_text(origin="pel+devnet/pel")),
    ("PEL_ECKPT_ORIGIN", "origin of 256 bytes", ck_text(origin="o" * 252 + "/pel")),
    ("PEL_OK", "origin of 255 bytes", ck_text(origin="o" * 251 + "/pel")),
    ("PEL_ECKPT_NUM", "size with leading zero", ck_text(size="042")),
    ("PEL_ECKPT_NUM", "size 00", ck_text(size="00")),
    ("PEL_ECKPT_NUM", "size +5", ck_text(size="+5")),
    ("PEL_ECKPT_NUM", "size -1", ck_text(size="-1")),
    ("PEL_ECKPT_NUM", "size 2^63", ck_text(size=str(1 << 63))),
    ("PEL_ECKPT_NUM", "size with space", ck_text(size="42 ")),
    ("PEL_ECKPT_NUM", "size hex", ck_text(size="0x2a")),
    ("PEL_ECKPT_NUM", "size in Arabic-Indic digits", ck_text(size="\u0664\u0662")),
    ("PEL_ECKPT_NUM", "height with leading zero", ck_text(height="height 07")),
    ("PEL_ECKPT_NUM", "height +7", ck_text(height="height +7")),
    ("PEL_ECKPT_NUM", "height 2^64", ck_text(height="height %d" % (1 << 64))),
    ("PEL_ECKPT_NUM", "height empty", ck_text(height="height ")),
    ("PEL_ECKPT_NUM", "height two spaces", ck_text(height="height  7")),
    ("PEL_ECKPT_NUM", "timestamp 1e3", ck_text(ts="timestamp-ms 1e3")),
    ("PEL_ECKPT_HASH", "root of 31 bytes", ck_text(root=base64.b64encode(bytes(31)).decode())),
    ("PEL_ECKPT_HASH", "root of 33 bytes", ck_text(root=base64.b64encode(bytes(33)).decode())),
    ("PEL_ECKPT_HASH", "root unpadded", ck_text(root="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")),
    ("PEL_ECKPT_HASH", "root stray bits", ck_text(root="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=")),
    ("PEL_ECKPT_HASH", "root hex", ck_text(root=bytes(32).hex())),
    ("PEL_ECKPT_HASH", "state root uppercase", ck_text(sr="state-root " + bytes(range(32, 64)).hex().upper())),
    ("PEL_ECKPT_HASH", "state root 62 digits", ck_text(sr="state-root " + bytes(31).hex())),
    ("PEL_ECKPT_HASH", "state root 66 digits", ck_text(sr="state-root " + bytes(33).hex())),
    ("PEL_ECKPT_HASH", "state root base64", ck_text(sr="state-root " + base64.b64encode(bytes(32)).decode())),
    ("PEL_ECKPT_EXT", "unknown extension line", ck_text(extra=["witness foo"])),
    ("PEL_ECKPT_EXT", "repeated timestamp", ck_text(extra=["timestamp-ms 1"])),
    ("PEL_ECKPT_EXT", "height missing", ck_text(height=None)),
    ("PEL_ECKPT_EXT", "state root missing", ck_text(sr=None)),
    ("PEL_ECKPT_EXT", "timestamp missing", ck_text(ts=None)),
    ("PEL_ECKPT_EXT", "only the standard three lines", ck_text(height=None, sr=None, ts=None)),
    ("PEL_ECKPT_EXT", "out of order", ck_text(height="state-root " + bytes(32).hex(), sr="height 7")),
    ("PEL_ECKPT_EXT", "Height capitalised", ck_text(height="Height 7")),
    ("PEL_ECKPT_EXT", "height without value", ck_text(height="height")),
    ("PEL_ECKPT_EXT", "height: 7", ck_text(height="height: 7")),
    ("PEL_ECKPT_EXT", "unknown extension instead of height", ck_text(height="foo 7")),
    # line-count faults are layout and come before content faults
    ("PEL_ECKPT_EXT", "four lines, bad origin", ck_text(origin="a b", sr=None, ts=None)),
    ("PEL_ECKPT_EXT", "seven lines, bad origin", ck_text(origin="a b", extra=["x"])),
    ("PEL_ECKPT_EXT", "seven lines, then an empty one", ck_text(extra=["x", ""])),
    ("PEL_ECKPT", "empty line 6 of 7", ck_text(ts="", extra=["x"])),
    ("PEL_ECKPT", "two lines, bad origin", "a b\n42\n"),
    ("PEL_ECKPT", "control character on a later line", ck_text(origin="a b", ts="timestamp-ms\x011")),
    ("PEL_ECKPT_ORIGIN", "bad origin and bad size", ck_text(origin="a b", size="+1")),
    ("PEL_ECKPT_NUM", "bad size and bad root", ck_text(size="+1", root="x")),
    ("PEL_ECKPT_EXT", "bad height key and bad state root", ck_text(height="h 1", sr="state-root x")),
]


def test_checkpoint_parse():
    for code, what, text in CKPT_CASES:
        if code == "PEL_OK":
            try:
                pv.parse_checkpoint(text)
                check(True, what)
            except pv.VerifyError as e:
                check(False, "checkpoint %s: rejected %s" % (what, e))
        else:
            raises(lambda: pv.parse_checkpoint(text), code, "checkpoint: " + what)
    ck = pv.parse_checkpoint(ck_text(size=str((1 << 63) - 1)))
    check(ck["size"] == (1 << 63) - 1, "size 2^63-1 value")
    check(pv.parse_checkpoint(ck_text().encode()) == pv.parse_checkpoint(ck_text()), "bytes or str")
    # verify: the origin must be the key's name
    seed = b"\x07" * 32
    other = make_note(ck_text(origin="other/pel"), [("pel-devnet/pel", seed)])
    raises(lambda: pv.verify_checkpoint(other, vkey_of("pel-devnet/pel", seed)),
           "PEL_ECKPT_ORIGIN", "origin is not the key's name")
    # a witness cosignature is ignored by verify_checkpoint
    cos = make_note(ck_text(), [("pel-devnet/pel", seed), ("witness.example", b"\x08" * 32)])
    check(pv.verify_checkpoint(cos, vkey_of("pel-devnet/pel", seed))["size"] == 42, "witness line ignored")
    raises(lambda: pv.verify_checkpoint(cos, vkey_of("witness.example", b"\x08" * 32)),
           "PEL_ECKPT_ORIGIN", "verified by the witness key only")


# ------------------------------------------------------------- RFC 9162 tests
# An independent reference, straight from the RFC's recursive definitions
# (section 2.1.1 MTH, 2.1.3.1 PATH, 2.1.4.1 PROOF/SUBPROOF), plus a recursive
# verifier that rebuilds the root the way PATH/PROOF were built.

def H(b):
    return hashlib.sha256(b).digest()


def largest_pow2_below(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Ref:
    def __init__(self, leaves):
        self.d = leaves                 # leaf hashes
        self.memo = {}

    def mth(self, lo, hi):
        key = (lo, hi)
        if key not in self.memo:
            n = hi - lo
            if n == 0:
                v = H(b"")
            elif n == 1:
                v = self.d[lo]
            else:
                k = largest_pow2_below(n)
                v = H(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi))
            self.memo[key] = v
        return self.memo[key]

    def path(self, m, lo, hi):
        n = hi - lo
        if n == 1:
            return []
        k = largest_pow2_below(n)
        if m < k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m - k, lo + k, hi) + [self.mth(lo, lo + k)]

    def subproof(self, m, lo, hi, b):
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = largest_pow2_below(n)
        if m <= k:
            return self.subproof(m, lo, lo + k, b) + [self.mth(lo + k, hi)]
        return self.subproof(m - k, lo + k, hi, False) + [self.mth(lo, lo + k)]

    def proof(self, m, n):
        return self.subproof(m, 0, n, True)


def ref_root_from_path(leaf, m, n, path):
    """Rebuild MTH from a leaf and PATH(m, D[n]) following PATH's recursion;
    None if the path has the wrong length for (m, n)."""
    if m >= n:
        return None

    def go(m, n, path):   # path: innermost first, so the outermost is last
        if n == 1:
            return leaf, path
        k = largest_pow2_below(n)
        if not path:
            raise ValueError
        outer, inner = path[-1], path[:-1]
        if m < k:
            sub, rest = go(m, k, inner)
            return H(b"\x01" + sub + outer), rest
        sub, rest = go(m - k, n - k, inner)
        return H(b"\x01" + outer + sub), rest
    try:
        r, rest = go(m, n, list(path))
    except ValueError:
        return None
    return r if not rest else None


def ref_roots_from_proof(m, n, root1, proof):
    """Rebuild (MTH(D[0:m]), MTH(D[0:n])) from PROOF(m, D[n]) and root1
    following SUBPROOF's recursion; None if the shape does not fit."""
    if not 0 < m < n:
        return None

    def go(m, n, b, proof):   # returns (old subtree hash, new subtree hash, rest)
        if m == n:
            if b:
                return root1, root1, proof
            if not proof:
                raise ValueError
            return proof[-1], proof[-1], proof[:-1]
        k = largest_pow2_below(n)
        if not proof:
            raise ValueError
        outer, inner = proof[-1], proof[:-1]
        if m <= k:
            o, nw, rest = go(m, k, b, inner)
            # the old tree is exactly the left part when m == k
            return o, H(b"\x01" + nw + outer), rest
        o, nw, rest = go(m - k, n - k, False, inner)
        return H(b"\x01" + outer + o), H(b"\x01" + outer + nw), rest
    try:
        old, new, rest = go(m, n, True, list(proof))
    except ValueError:
        return None
    if rest:
        return None
    return old, new


def flip(h, bit):
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def test_rfc9162(max_n=200):
    rnd = random.Random(9162)
    leaves = [pv.history_leaf_hash(i // 3, i % 3, rnd.randbytes(32), rnd.randbytes(32))
              for i in range(max_n)]
    ref = Ref(leaves)
    check(pv.empty_root() == H(b""), "empty root")
    check(pv.empty_root().hex().startswith("e3b0c442"), "empty root value")
    # --- inclusion
    n_ok = n_bad = accepted_other_size = 0
    fails = []
    for n in range(1, max_n + 1):
        root = ref.mth(0, n)
        for m in range(n):
            path = ref.path(m, 0, n)
            leaf = leaves[m]
            if not pv.verify_inclusion(leaf, m, n, path, root):
                fails.append(("incl", m, n))
            n_ok += 1
            # tampering that must be rejected outright
            tam = [(flip(leaf, rnd.randrange(256)), m, n, path, root),
                   (leaf, m, n, path, flip(root, rnd.randrange(256))),
                   (leaf, m, n, path + [root], root),
                   (leaf, n, n, path, root),
                   (leaf, m + n, n, path, root)]
            if path:
                tam.append((leaf, m, n, path[:-1], root))
                tam.append((leaf, m, n, path[1:], root))
                i = rnd.randrange(len(path))
                tam.append((leaf, m, n, path[:i] + [flip(path[i], rnd.randrange(256))] + path[i + 1:], root))
                tam.append((leaf, m, n, list(reversed(path)), root) if len(path) > 1 else
                           (leaf, m, n, [bytes(32)], root))
            for j in (m - 1, m + 1):
                if 0 <= j < n:
                    tam.append((leaf, j, n, path, root))
            if m + 1 < n:
                tam.append((leaves[m + 1], m, n, path, root))
            if n > 1:
                tam.append((leaf, m, n, path, ref.mth(0, n - 1)))
            for t in tam:
                n_bad += 1
                if pv.verify_inclusion(*t):
                    fails.append(("incl-tamper", m, n, t[1], t[2], len(t[3])))
            # wrong size: the proof does not bind the size by itself; the
            # verifier must agree with the recursive rebuild, which accepts
            # only where the tree shapes coincide.
            for n2 in (n - 1, n + 1, 2 * n):
                if n2 <= m:
                    continue
                got = pv.verify_inclusion(leaf, m, n2, path, root)
                want = ref_root_from_path(leaf, m, n2, path) == root
                n_bad += 1
                if got != want:
                    fails.append(("incl-size", m, n, n2, got, want))
                accepted_other_size += got
        # every single bit of every path element, for small trees
        if n <= 12:
            for m in range(n):
                path = ref.path(m, 0, n)
                for i in range(len(path)):
                    for bit in range(256):
                        p2 = list(path)
                        p2[i] = flip(p2[i], bit)
                        n_bad += 1
                        if pv.verify_inclusion(leaves[m], m, n, p2, ref.mth(0, n)):
                            fails.append(("incl-bit", m, n, i, bit))
    # degenerate arguments
    for args in ((leaves[0], 0, 0, [], H(b"")), (leaves[0], 0, 0, [], leaves[0]),
                 (leaves[0], -1, 1, [], leaves[0]), (leaves[0], 0, 1, [], leaves[0][:31]),
                 (leaves[0][:31], 0, 1, [], leaves[0]), (leaves[0], 0, 1, [b"x"], leaves[0])):
        n_bad += 1
        if pv.verify_inclusion(*args):
            fails.append(("incl-degenerate", args[1], args[2]))
    check(pv.verify_inclusion(leaves[0], 0, 1, [], leaves[0]), "size 1: the root is the leaf")
    check(not fails, "inclusion: %d proofs verify, %d tampered rejected (failures %r)"
          % (n_ok, n_bad, fails[:5]))
    print("  inclusion: %d proofs, %d tampered/other-size cases (%d other-size accepted "
          "where the shapes coincide, as the recursive rebuild does)"
          % (n_ok, n_bad, accepted_other_size))
    # --- consistency
    fails = []
    c_ok = c_bad = same_shape = 0
    for n in range(1, max_n + 1):
        r2 = ref.mth(0, n)
        for m in range(1, n + 1):
            r1 = ref.mth(0, m)
            proof = ref.proof(m, n)
            if not pv.verify_consistency(m, n, r1, r2, proof):
                fails.append(("cons", m, n))
            c_ok += 1
            if m < n:
                rb = ref_roots_from_proof(m, n, r1, proof)
                if rb != (r1, r2):
                    fails.append(("cons-ref", m, n))
            tam = [(m, n, flip(r1, rnd.randrange(256)), r2, proof),
                   (m, n, r1, flip(r2, rnd.randrange(256)), proof),
                   (m, n, r2, r1, proof) if r1 != r2 else (m, n, r1, r2, proof + [r1]),
                   (m, n, r1, r2, proof + [r2]),
                   (0, n, H(b""), r2, proof),
                   (n + 1, n, r1, r2, proof)]
            if proof:
                tam.append((m, n, r1, r2, proof[:-1]))
                tam.append((m, n, r1, r2, proof[1:]))
                tam.append((m, n, r1, r2, [r1] + proof))
                i = rnd.randrange(len(proof))
                tam.append((m, n, r1, r2, proof[:i] + [flip(proof[i], rnd.randrange(256))] + proof[i + 1:]))
                if len(proof) > 1:
                    tam.append((m, n, r1, r2, list(reversed(proof))))
            for t in tam:
                c_bad += 1
                if pv.verify_consistency(*t):
                    fails.append(("cons-tamper", m, n, t[0], t[1], len(t[4])))
            # other sizes: agree with the recursive rebuild
            for m2, n2 in ((m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1)):
                if not 0 < m2 < n2:
                    continue
                got = pv.verify_consistency(m2, n2, r1, r2, proof)
                want = ref_roots_from_proof(m2, n2, r1, proof) == (r1, r2)
                c_bad += 1
                same_shape += got
                if got != want:
                    fails.append(("cons-size", m, n, m2, n2, got, want))
        if n <= 12:
            for m in range(1, n):
                proof = ref.proof(m, n)
                for i in range(len(proof)):
                    for bit in range(256):
                        p2 = list(proof)
                        p2[i] = flip(p2[i], bit)
                        c_bad += 1
                        if pv.verify_consistency(m, n, ref.mth(0, m), ref.mth(0, n), p2):
                            fails.append(("cons-bit", m, n, i, bit))
    check(pv.verify_consistency(5, 5, leaves[0], leaves[0], []), "size1 == size2, same root, no path")
    check(not pv.verify_consistency(5, 5, leaves[0], leaves[1], []), "size1 == size2, other root")
    check(not pv.verify_consistency(5, 5, leaves[0], leaves[0], [leaves[0]]), "size1 == size2, a path")
    check(not pv.verify_consistency(0, 0, H(b""), H(b""), []), "size 0 to 0")
    check(not pv.verify_consistency(0, 3, H(b""), ref.mth(0, 3), []), "size 0 to 3")
    check(not pv.verify_consistency(1, 2, leaves[0], ref.mth(0, 2), []), "empty path, 1 to 2")
    check(not fails, "consistency: %d proofs verify, %d tampered rejected (failures %r)"
          % (c_ok, c_bad, fails[:5]))
    print("  consistency: %d proofs, %d tampered/other-size cases (%d other-size accepted "
          "where the shapes coincide)" % (c_ok, c_bad, same_shape))


def test_history_leaf():
    txid, dig = bytes(range(0x40, 0x60)), bytes(range(0x60, 0x80))
    want = H(b"\x00" + bytes.fromhex("0807060504030201") + bytes.fromhex("0d0c0b0a") + txid + dig)
    check(pv.history_leaf_hash(0x0102030405060708, 0x0a0b0c0d, txid, dig) == want,
          "history leaf = SHA-256(0x00 || u64 LE || u32 LE || txid || digest)")
    for bad in ((-1, 0), (1 << 64, 0), (0, 1 << 32)):
        try:
            pv.history_leaf_hash(bad[0], bad[1], txid, dig)
            check(False, "leaf range %r" % (bad,))
        except ValueError:
            check(True, "")


# ------------------------------------------------------- state-tree proofs
# A reference written from the definitions of docs/PROOFS.md section 2 (the
# tree recursively, and a proof as the walk along a key's path), to test
# pelverify's decoder and verifier without the C code.

SMT_Z = bytes(32)


def ref_smt_pair(l, r):
    return SMT_Z if l == SMT_Z and r == SMT_Z else pv.tagged_hash("PEL/state-node", l + r)


def ref_nib(p, d):
    return p[d // 2] >> 4 if d % 2 == 0 else p[d // 2] & 15


def ref_smt_levels(c):
    """[c, p1, p2, p3] of a 16-ary node's binary Merkle tree."""
    out = [c]
    while len(out[-1]) > 2:
        x = out[-1]
        out.append([ref_smt_pair(x[2 * i], x[2 * i + 1]) for i in range(len(x) // 2)])
    return out


def ref_smt_tree(items, d=0):
    """T(S, d) for items = [(path, value_hash)]."""
    if not items:
        return SMT_Z
    if len(items) == 1:
        return pv.tagged_hash("PEL/state-leaf", items[0][0] + items[0][1])
    c = [ref_smt_tree([x for x in items if ref_nib(x[0], d) == v], d + 1) for v in range(16)]
    lv = ref_smt_levels(c)
    return ref_smt_pair(lv[3][0], lv[3][1])


def ref_smt_prove(items, path):
    """The canonical encoding of the proof for `path` in the tree over items."""
    levels, d, s = [], 0, list(items)
    while len(s) > 1:
        c = [ref_smt_tree([x for x in s if ref_nib(x[0], d) == v], d + 1) for v in range(16)]
        lv = ref_smt_levels(c)
        n = ref_nib(path, d)
        levels.append([lv[j][(n >> j) ^ 1] for j in range(4)])
        s = [x for x in s if ref_nib(x[0], d) == n]
        d += 1
    kind = 1 if not s else 0 if s[0][0] == path else 2
    out = bytearray([kind, len(levels)])
    for sib in levels:
        out.append(sum(1 << j for j in range(4) if sib[j] != SMT_Z))
        out += b"".join(h for h in sib if h != SMT_Z)
    if kind == 2:
        out += s[0][0] + s[0][1]
    return bytes(out)


def smt_sets(rnd):
    """(keys, values, root, items) for sets of several sizes."""
    out = []
    for n in (0, 1, 2, 3, 5, 17, 40):
        keys = [rnd.randbytes(32) for _ in range(n)]
        vals = [rnd.randbytes(rnd.choice([0, 1, 8, 40])) for _ in range(n)]
        items = [(pv.smt_path(k), pv.smt_value_hash(v)) for k, v in zip(keys, vals)]
        out.append((keys, vals, ref_smt_tree(items), items))
    return out


def test_state_tree():
    rnd = random.Random(2)
    # the known answers of smt.h: empty tree Z, one pair its leaf
    k, v = bytes(range(32)), b"abc"
    leaf = pv.smt_leaf_hash(pv.smt_path(k), pv.smt_value_hash(v))
    check(ref_smt_tree([(pv.smt_path(k), pv.smt_value_hash(v))]) == leaf, "one pair: its leaf")
    check(pv.tagged_hash("PEL/state-path", k) == hashlib.blake2b(
        bytes([14]) + b"PEL/state-path" + k, digest_size=32).digest(), "tagged hash layout")
    good = bad = absent_kinds = 0
    fails = []
    for keys, vals, root, items in smt_sets(rnd):
        others = [rnd.randbytes(32) for _ in range(12)]
        for i, key in enumerate(keys + others):
            enc_ = ref_smt_prove(items, pv.smt_path(key))
            p = pv.decode_state_proof(enc_)
            claim = vals[i] if i < len(keys) else None
            absent_kinds |= 1 << p.kind
            good += 1
            if not pv.verify_state(root, key, claim, p):
                fails.append(("valid", len(keys), i))
            wrong = [None, b"x"] if claim is not None else [b"", b"x"]
            if claim:
                wrong.append(flip(claim, 0))
            wrong = [w for w in wrong if w != claim]
            for w in wrong:
                bad += 1
                if pv.verify_state(root, key, w, p):
                    fails.append(("claim", len(keys), i, w))
            if i % 3 == 0:
                for bit in range(0, len(enc_) * 8, 5):
                    bad += 1
                    try:
                        ok = pv.verify_state(root, key, claim, pv.decode_state_proof(flip(enc_, bit)))
                    except pv.VerifyError:
                        ok = False
                    if ok:
                        fails.append(("bit", len(keys), i, bit))
    check(not fails, "state proofs: %d valid verify, %d wrong claims and flipped encodings "
          "rejected (%r)" % (good, bad, fails[:4]))
    check(absent_kinds == 7, "all three proof kinds seen (%d)" % absent_kinds)
    # the decoder's strictness, code for code with smt.h
    z, h = bytes(32), b"\x01" * 32
    for data, code in ((b"", "PEL_ETRUNC"), (b"\x00", "PEL_ETRUNC"), (b"\x03\x00", "PEL_ENONCANON"),
                       (b"\x00\x41", "PEL_ENONCANON"), (b"\x01\x00", "PEL_OK"),
                       (b"\x01\x00\x00", "PEL_ETRAILING"), (b"\x01\x01\x00", "PEL_ENONCANON"),
                       (b"\x01\x01\x10", "PEL_ENONCANON"), (b"\x01\x01\x01" + z, "PEL_ENONCANON"),
                       (b"\x01\x01\x01" + h, "PEL_OK"), (b"\x01\x01\x01" + h[:31], "PEL_ETRUNC"),
                       (b"\x02\x00" + z + z, "PEL_OK"), (b"\x02\x00" + z, "PEL_ETRUNC"),
                       (b"\x01\x02\x00\x01" + h, "PEL_OK"), (b"\x01\x02\x01" + h + b"\x00", "PEL_ENONCANON")):
        check(code_of(lambda: pv.decode_state_proof(data)) == code,
              "decode %s -> %s" % (data[:8].hex(), code))


# ------------------------------------------------------------ proof files

VECTORS = os.path.join(ROOT, "tests", "vectors", "proofs")


def load_vectors():
    """[(name, bytes)] of tests/vectors/proofs/*.json, the key, and the
    expected description of each."""
    with open(os.path.join(VECTORS, "key.txt")) as f:
        key = f.read().strip()
    proven = {}
    with open(os.path.join(VECTORS, "proven.txt"), encoding="utf-8") as f:
        for line in f:
            name, _, what = line.partition(": ")
            proven[name] = what
    files = []
    for name in sorted(os.listdir(VECTORS)):
        if name.endswith(".json"):
            with open(os.path.join(VECTORS, name), "rb") as f:
                files.append((name, f.read()))
    return files, key, proven


def test_proof_files(tmp):
    files, key, proven = load_vectors()
    check(len(files) >= 15 and key == GOLDEN_KEY, "vectors present, signed by the golden key")
    types = set()
    for name, data in files:
        try:
            res = pv.verify_proof(data, key)
        except pv.VerifyError as e:
            check(False, "vector %s: %s" % (name, e))
            continue
        types.add(res["proof"]["type"])
        check(res["description"] == proven.get(name), "vector %s: description\n  %s  %s"
              % (name, res["description"], proven.get(name)))
        check(pv.format_proof(res["proof"]).encode("utf-8") == data,
              "vector %s: Python writes PEL's canonical text" % name)
    check(types == {"tx", "state", "consistency"}, "vectors of all three types")
    # the worked example of docs/PROOFS.md section 4 is tx_small.json
    with open(os.path.join(ROOT, "docs", "PROOFS.md"), encoding="utf-8") as f:
        doc = f.read()
    small = dict(files)["tx_small.json"].decode()
    check(small in doc and proven["tx_small.json"] in doc,
          "docs/PROOFS.md holds tx_small.json and what it proves, verbatim")
    # command line
    path = os.path.join(VECTORS, "state_present.json")
    rc, out, _ = run_cli(["verify", path, "--key", key])
    check(rc == 0 and out.split("\n")[0] + "\n" == proven["state_present.json"]
          and "checkpoint:" in out, "cli verify: OK\n" + out)
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "wb") as f:
        f.write(dict(files)["tx.json"].replace(b'"height": "11"', b'"height": "10"'))
    rc, out, _ = run_cli(["verify", bad, "--key", key])
    check(rc == 1 and out.startswith("FAILED: inclusion proof does not lead to the checkpoint's "
                                     "root") and out.rstrip().endswith("(PEL_EPROOF)"),
          "cli verify: tampered\n" + out)
    rc, out, _ = run_cli(["verify", path, "--key", vkey_of("pel-devnet/pel", b"\x02" * 32)])
    check(rc == 1 and out == "FAILED: checkpoint: not signed by the key (PEL_ENOTE_UNVERIFIED)\n",
          "cli verify: other key\n" + out)
    rc, out, _ = run_cli(["verify", os.path.join(tmp, "missing"), "--key", key])
    check(rc == 1 and "PEL_ENOTFOUND" in out and out.startswith("FAILED: cannot read"),
          "cli verify: missing file\n" + out)
    rc, out, _ = run_cli(["verify", path, "--key", key + "x"])
    check(rc == 1 and out.startswith("FAILED: verifier key:"), "cli verify: bad key\n" + out)
    saved = sys.stderr
    sys.stderr = io.StringIO()
    try:
        rc, _, _ = run_cli(["verify", path])
    finally:
        sys.stderr = saved
    check(rc == 2, "cli verify: usage error")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "pelverify.py"),
                        "verify", path, "--key", key], capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout.startswith("state key "), "cli verify: script exit 0")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "pelverify.py"),
                        "verify", bad, "--key", key], capture_output=True, text=True)
    check(r.returncode == 1 and r.stdout.startswith("FAILED: "), "cli verify: script exit 1")


def proof_variants(files, rnd):
    """Changed proof files: (label, bytes). Every hex field with one bit
    flipped per byte (all bits for tx_small.json), numbers +-1, notes with a
    bit flipped, members added, dropped, doubled, retyped; JSON faults."""
    out = []
    for name, data in files:
        p = pv.parse_proof(data)
        full = name == "tx_small.json"

        def emit(label, q):
            out.append(("%s %s" % (name, label), pv.format_proof(q).encode("utf-8")))

        for fld in ("tx", "receipt", "key", "value", "state_proof_bytes"):
            v = p.get(fld)
            if not v:
                continue
            for i in range(len(v)):
                for bit in (range(8) if full else [(i * 3 + len(name)) % 8]):
                    q = dict(p)
                    q[fld] = flip(v, i * 8 + bit)
                    if fld == "state_proof_bytes":
                        t = data.replace(v.hex().encode(), q[fld].hex().encode())
                        out.append(("%s state_proof bit %d" % (name, i * 8 + bit), t))
                    else:
                        emit("%s bit %d" % (fld, i * 8 + bit), q)
        for e, hsh in enumerate(p.get("path", [])):
            for i in range(32):
                for bit in (range(8) if full else [(i + e) % 8]):
                    q = dict(p)
                    q["path"] = list(p["path"])
                    q["path"][e] = flip(hsh, i * 8 + bit)
                    emit("path %d bit %d" % (e, i * 8 + bit), q)
        if "path" in p:
            q = dict(p)
            q["path"] = p["path"] + [bytes(32)]
            emit("path + 1", q)
            if p["path"]:
                q = dict(p)
                q["path"] = p["path"][:-1]
                emit("path - 1", q)
                q = dict(p)
                q["path"] = list(reversed(p["path"]))
                emit("path reversed", q)
        for fld in ("height", "index", "leaf_index"):
            if fld in p:
                for d in (-1, 1, 1 << 32):
                    q = dict(p)
                    q[fld] = p[fld] + d
                    if q[fld] >= 0:
                        emit("%s %+d" % (fld, d), q)
        if p["type"] == "state":
            q = dict(p)
            q["value"] = None if p["value"] is not None else b""
            emit("value claim flipped", q)
        if name in ("tx_small.json", "state_absent_leaf.json", "consistency.json",
                    "consistency_from_0.json"):
            for fld in ("checkpoint", "old_checkpoint"):
                if fld not in p:
                    continue
                note = p[fld]
                for i in range(0, len(note), 5):
                    b = bytearray(note)
                    b[i] ^= 1 << (i % 7)
                    q = dict(p)
                    try:
                        q[fld] = bytes(b)
                        out.append(("%s %s byte %d" % (name, fld, i),
                                    pv.format_proof(q).encode("utf-8")))
                    except UnicodeDecodeError:   # not UTF-8: the raw bytes go in
                        out.append(("%s %s raw byte %d" % (name, fld, i),
                                    data.replace(b"height", bytes([b[i]]) + b"height", 1)))
        # the notes of two files swapped, and one file's note in another
        if p["type"] == "consistency" and p["path"]:
            q = dict(p)
            q["checkpoint"], q["old_checkpoint"] = p["old_checkpoint"], p["checkpoint"]
            emit("notes swapped", q)
    return out


JSON_EDITS = [  # (from, to) on tx_small.json's text
    ('"height": "3"', '"extra": "1", "height": "3"'),
    ('"height": "3"', '"height": "3", "height": "3"'),
    ('"height": "3",', ''),
    ('"pel_proof": "1"', '"pel_proof": "2"'),
    ('"pel_proof": "1"', '"pel_proof": "01"'),
    ('"pel_proof": "1"', '"pel_proof": 1'),
    ('"pel_proof": "1"', '"pel_proof": "1", "pel_proof": "2"'),
    ('"pel_proof": "1",', '"pel_proof": "2", "zz": [1, {"a": null}],'),
    ('"pel_proof": "1",', '"pel_proof": "2", "zz": ' + "[" * 31 + "]" * 31 + ','),
    ('"pel_proof": "1",', '"pel_proof": "2", "zz": ' + "[" * 32 + "]" * 32 + ','),
    ('"pel_proof": "1",', '"pel_proof": "2", "zz": ' + "[" * 2000 + "]" * 2000 + ','),
    ('"pel_proof": "1",', '"pel_proof": "2", "zz": ' + "7" * 5000 + ','),
    ('"pel_proof": "1",', '"pel_proof": "2", "zz": 1e999,'),
    ('"pel_proof": "1",', '"pel_proof": "2", "zz": NaN,'),
    ('"pel_proof": "1",', '"pel_proof": "2", "zz": -Infinity,'),
    ('"pel_proof": "1",', '"pel_proof": "2", "z\\ud800": 0,'),
    ('"pel_proof": "1",', '"pel_proof": "2", "z\\udc00\\ud800": 0,'),
    ('"pel_proof": "1",', '"pel_proof": "2", "z\\ud83d\\ude00": 0,'),
    ('"pel_proof": "1",', '"pel_proof": "2", "z": "\\ud800\\u0041",'),
    ('"pel_proof": "1",', '"pel_proof": "2", "z": ["\\udfff"],'),
    ('"pel_proof": "1",', '"pel_proof": "2", "z": "\x7f",'),
    ('"pel_proof": "1",', '"pel_proof": "2", "z": "\t",'),
    ('"pel_proof": "1",', '"pel_proof": "2", "z": 01,'),
    ('"pel_proof": "1",', '"pel_proof": "2", "z": -0.0e-0,'),
    ('"pel_proof": "1",', '"pel_proof": "2", "z": \u0663,'),
    ('"pel_proof": "1",', '"pel_proof": "2", ' + ", ".join('"m%d": 0' % i for i in range(14)) + ','),
    ('"pel_proof": "1",', '"pel_proof": "2", ' + ", ".join('"m%d": 0' % i for i in range(13)) + ','),
    ('"pel_proof": "1",', '"pel_proof": "1", ' + ", ".join('"m%d": 0' % i for i in range(8)) + ','),
    ('"pel_proof": "1",', '"p\\u0065l_proof": "\\u0031",'),
    ('"type": "tx"', '"type": "Tx"'),
    ('"type": "tx"', '"type": "state"'),
    ('"type": "tx"', '"type": ["tx"]'),
    ('"height": "3"', '"height": "03"'),
    ('"height": "3"', '"height": 3'),
    ('"height": "3"', '"height": "\u0663"'),
    ('"height": "3"', '"height": "18446744073709551615"'),
    ('"height": "3"', '"height": "18446744073709551616"'),
    ('"index": "1"', '"index": "4294967296"'),
    ('"index": "1"', '"index": "4294967295"'),
    ('"leaf_index": "2"', '"leaf_index": "4"'),
    ('"leaf_index": "2"', '"leaf_index": "' + "9" * 30 + '"'),
    ('"tx": "7f', '"tx": "7F'),
    ('"tx": "7f', '"tx": "7'),
    ('"tx": "7f', '"tx": "\\u0037f'),
    ('"receipt": "7f', '"receipt": "7f\\/'),
    ('"inclusion": [', '"inclusion": [1, '),
    ('"inclusion": [', '"inclusion": ["", '),
    ('"inclusion": [', '"inclusion": [' + '"%s", ' % ("ab" * 32) * 64),
    ('"inclusion": [', '"inclusion": {"a": ['),
    ('\n}\n', '\n}\n\n \t\r'),
    ('\n}\n', '\n} x'),
    ('\n}\n', '\n},'),
    ('{\n', '\ufeff{\n'),
    ('{\n', '[{\n'),
    ('\\n\\n\u2014', '\\n\\n\\u2014'),
    ('\\n\\n\u2014', '\\n\\u000a\u2014'),
    ('\\n\\n\u2014', '\\n\\r\\n\u2014'),
    ('\\n\\n\u2014', '\\n\\u0000\\n\u2014'),
    ('height 3', 'height 4'),
]


def json_variants(files):
    base = dict(files)["tx_small.json"].decode("utf-8")
    out = []
    for i, (a, b) in enumerate(JSON_EDITS):
        if a not in base:
            raise AssertionError("JSON edit %d: %r not in tx_small.json" % (i, a))
        out.append(("json edit %d %r" % (i, b[:50]), base.replace(a, b, 1).encode("utf-8")))
    out.append(("invalid UTF-8 in a note", base.encode().replace(b"height 3", b"height \xff")))
    out.append(("overlong UTF-8", base.encode().replace(b"height 3", b"height \xc0\xb3")))
    out.append(("UTF-8 surrogate", base.encode().replace(b"height 3", b"height \xed\xa0\x80")))
    out.append(("NUL in the text", base.encode().replace(b"\n}", b"\x00\n}")))
    out.append(("empty", b""))
    out.append(("white space only", b" \n"))
    out.append(("empty object", b"{}"))
    out.append(("too big", base.encode() + b" " * (pv.PROOF_TEXT_MAX + 1 - len(base.encode()))))
    out.append(("just at the limit", base.encode() + b" " * (pv.PROOF_TEXT_MAX - len(base.encode()))))
    return out


# -------------------------------------------------------------- CLI tests

def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    rc = pv.main(argv, out, err)
    return rc, out.getvalue(), err.getvalue()


def test_cli(tmp):
    good = os.path.join(tmp, "golden.note")
    with open(good, "wb") as f:
        f.write(GOLDEN_NOTE)
    rc, out, _ = run_cli(["checkpoint", good, "--key", GOLDEN_KEY])
    check(rc == 0 and "origin        pel-devnet/pel" in out and "tree size     42" in out
          and "height        7" in out and "timestamp-ms  1700000000123" in out
          and "state root    2021" in out and "AAECAwQF" in out, "cli: golden OK\n" + out)
    badf = os.path.join(tmp, "bad.note")
    with open(badf, "wb") as f:
        f.write(GOLDEN_NOTE.replace(b"height 7", b"height 8"))
    rc, out, _ = run_cli(["checkpoint", badf, "--key", GOLDEN_KEY])
    check(rc == 1 and "PEL_ENOTE_BADSIG" in out and out.startswith("FAIL"), "cli: tampered\n" + out)
    rc, out, _ = run_cli(["checkpoint", good, "--key", GOLDEN_KEY.replace("412fcbd5", "412fcbd6")])
    check(rc == 1 and "PEL_EVKEY_ID" in out, "cli: bad key\n" + out)
    rc, out, _ = run_cli(["checkpoint", good, "--key", vkey_of("pel-devnet/pel", b"\x02" * 32)])
    check(rc == 1 and "PEL_ENOTE_UNVERIFIED" in out, "cli: other key\n" + out)
    rc, out, err = run_cli(["checkpoint", os.path.join(tmp, "missing"), "--key", GOLDEN_KEY])
    check(rc == 1 and "cannot read" in err, "cli: missing file")
    rc, out, _ = run_cli(["verify", good, "--key", GOLDEN_KEY])
    check(rc == 1 and out.startswith("FAILED: not valid JSON") and "(PEL_EPROOF_FORMAT)" in out,
          "cli: verify a note, not a proof file\n" + out)
    saved = sys.stderr
    sys.stderr = io.StringIO()
    try:
        rc, _, _ = run_cli(["checkpoint", good])
    finally:
        sys.stderr = saved
    check(rc == 2, "cli: usage error")
    # as a script
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "pelverify.py"),
                        "checkpoint", good, "--key", GOLDEN_KEY], capture_output=True, text=True)
    check(r.returncode == 0 and "tree size     42" in r.stdout, "cli: script exit 0")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "pelverify.py"),
                        "checkpoint", badf, "--key", GOLDEN_KEY], capture_output=True, text=True)
    check(r.returncode == 1 and "FAIL" in r.stdout, "cli: script exit 1")


# ------------------------------------------------ agreement with the C code

HELPER_C = r'''
/* pelverify_helper - PEL's C verifier, driven line by line from stdin for
 * tests/tools/test_pelverify.py. Every input and output is hex. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/buf.h"
#include "core/err.h"
#include "core/sign.h"
#include "state/checkpoint.h"
#include "state/history.h"
#include "state/proof.h"
#include "state/smt.h"

#define N(x) {x, #x}
static const struct { int c; const char *n; } names[] = {
    N(PEL_OK), N(PEL_ENOMEM), N(PEL_EINVAL), N(PEL_ERANGE), N(PEL_EBADSIG),
    N(PEL_EBADKEY), N(PEL_ECRYPTO), N(PEL_EPROOF), N(PEL_ENOTE),
    N(PEL_ENOTE_UNVERIFIED), N(PEL_ENOTE_BADSIG), N(PEL_ENOTE_TOOMANY),
    N(PEL_ENOTE_AMBIGUOUS), N(PEL_ENOTE_TEXT), N(PEL_ENOTE_NAME), N(PEL_EVKEY),
    N(PEL_EVKEY_ALG), N(PEL_EVKEY_ID), N(PEL_ECKPT), N(PEL_ECKPT_ORIGIN),
    N(PEL_ECKPT_NUM), N(PEL_ECKPT_HASH), N(PEL_ECKPT_EXT), N(PEL_ETRUNC),
    N(PEL_ETRAILING), N(PEL_ENONCANON), N(PEL_EPROOF_FORMAT), N(PEL_EPROOF_VERSION),
};
static const char *cname(int c) {
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].c == c) return names[i].n;
    static char b[32];
    snprintf(b, sizeof b, "PEL_%d", c);
    return b;
}
static int hexv(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}
static uint8_t *unhex(const char *s, size_t n, size_t *len) {
    uint8_t *o = malloc(n / 2 + 1);
    if (!o) exit(3);
    for (size_t i = 0; i + 1 < n; i += 2) {   /* not sscanf: it strlen()s each call */
        int hi = hexv(s[i]), lo = hexv(s[i + 1]);
        if (hi < 0 || lo < 0) exit(4);
        o[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    o[n / 2] = 0;
    *len = n / 2;
    return o;
}
static void puthex(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
}
static void keypair(const char *seedhex, uint8_t pk[32], uint8_t sk[64]) {
    size_t n;
    uint8_t *seed = unhex(seedhex, strlen(seedhex), &n);
    if (n != 32 || pel_sign_seed_keypair(pk, sk, seed) != 0) exit(5);
    free(seed);
}
/* split a line into up to 8 space-separated fields (in place) */
static int fields(char *l, char *f[8]) {
    int n = 0;
    for (char *t = strtok(l, " "); t && n < 8; t = strtok(NULL, " ")) f[n++] = t;
    return n;
}
static int hashes(const char *s, uint8_t (**out)[32], size_t *n) {
    *out = NULL; *n = 0;
    if (strcmp(s, "-") == 0) return 0;
    size_t len; uint8_t *b = unhex(s, strlen(s), &len);
    if (len % 32) return -1;
    *out = (uint8_t (*)[32])b; *n = len / 32;
    return 0;
}
int main(int argc, char **argv) {
    if (argc < 2 || sodium_init() < 0) return 2;
    const char *mode = argv[1];
    uint8_t pk[32], sk[64];
    if (!strcmp(mode, "vkey")) {             /* vkey SEED NAME */
        char v[PEL_NOTE_VKEY_MAX];
        keypair(argv[2], pk, sk);
        if (pel_note_verifier_format(argv[3], pk, v, sizeof v)) return 6;
        printf("%s\n", v);
        return 0;
    }
    pel_note_verifier keys[8];
    size_t nk = 0;
    if (!strcmp(mode, "open") || !strcmp(mode, "ckverify") || !strcmp(mode, "proof")) {
        for (int i = 2; i < argc && nk < 8; i++)
            if (pel_note_verifier_parse(argv[i], &keys[nk++])) return 7;
    }
    char *line = NULL; size_t cap = 0; ssize_t got;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        if (line[got - 1] == '\n') line[--got] = 0;
        char *f[8];
        if (!strcmp(mode, "sign") || !strcmp(mode, "cosign")) {  /* SEED NAME; hex in */
            size_t n; uint8_t *t = unhex(line, (size_t)got, &n);
            pel_buf b; pel_buf_init(&b);
            keypair(argv[2], pk, sk);
            int rc = !strcmp(mode, "sign")
                ? pel_note_sign((const char *)t, n, argv[3], sk, &b)
                : pel_note_add_signature((const char *)t, n, argv[3], sk, &b);
            if (rc) printf("%s\n", cname(rc)); else { puthex(b.data, b.len); printf("\n"); }
            pel_buf_free(&b); free(t);
        } else if (!strcmp(mode, "ckpt")) {  /* SEED; "origin size root height sr ts" */
            if (fields(line, f) != 6) return 8;
            pel_checkpoint c; memset(&c, 0, sizeof c);
            size_t n; uint8_t *o = unhex(f[0], strlen(f[0]), &n);
            memcpy(c.origin, o, n < PEL_CKPT_ORIGIN_MAX ? n : PEL_CKPT_ORIGIN_MAX); free(o);
            c.size = strtoull(f[1], NULL, 10);
            uint8_t *r = unhex(f[2], 64, &n); memcpy(c.root, r, 32); free(r);
            c.height = strtoull(f[3], NULL, 10);
            r = unhex(f[4], 64, &n); memcpy(c.state_root, r, 32); free(r);
            c.timestamp_ms = strtoull(f[5], NULL, 10);
            pel_buf b; pel_buf_init(&b);
            keypair(argv[2], pk, sk);
            int rc = pel_checkpoint_sign(&c, sk, &b);
            if (rc) printf("%s\n", cname(rc)); else { puthex(b.data, b.len); printf("\n"); }
            pel_buf_free(&b);
        } else if (!strcmp(mode, "open")) {
            size_t n; uint8_t *t = unhex(line, (size_t)got, &n);
            pel_note_opened o;
            int rc = pel_note_open((const char *)t, n, keys, nk, &o);
            printf("%s", cname(rc));
            for (size_t i = 0; !rc && i < o.n_verified; i++) printf(" %zu", o.verified[i]);
            printf("\n"); free(t);
        } else if (!strcmp(mode, "ckverify")) {
            size_t n; uint8_t *t = unhex(line, (size_t)got, &n);
            pel_checkpoint c;
            int rc = pel_checkpoint_verify((const char *)t, n, &keys[0], &c);
            printf("%s", cname(rc));
            if (!rc) { printf(" %llu ", (unsigned long long)c.size); puthex(c.root, 32);
                       printf(" %llu ", (unsigned long long)c.height); puthex(c.state_root, 32);
                       printf(" %llu", (unsigned long long)c.timestamp_ms); }
            printf("\n"); free(t);
        } else if (!strcmp(mode, "ckparse")) {
            size_t n; uint8_t *t = unhex(line, (size_t)got, &n);
            pel_checkpoint c;
            printf("%s\n", cname(pel_checkpoint_parse((const char *)t, n, &c)));
            free(t);
        } else if (!strcmp(mode, "vkparse")) {
            size_t n; uint8_t *t = unhex(line, (size_t)got, &n);
            pel_note_verifier v;
            printf("%s\n", strlen((char *)t) != n ? "NUL" :
                   cname(pel_note_verifier_parse((const char *)t, &v)));
            free(t);
        } else if (!strcmp(mode, "ed")) {    /* pk msg sig */
            if (fields(line, f) != 3) return 8;
            size_t a, m, s;
            uint8_t *p = unhex(f[0], strlen(f[0]), &a);
            uint8_t *msg = unhex(strcmp(f[1], "-") ? f[1] : "", strcmp(f[1], "-") ? strlen(f[1]) : 0, &m);
            uint8_t *sg = unhex(f[2], strlen(f[2]), &s);
            printf("%s\n", a == 32 && s == 64 ? cname(pel_sign_verify(p, msg, m, sg)) : "LEN");
            free(p); free(msg); free(sg);
        } else if (!strcmp(mode, "leaf")) {  /* height index txid digest */
            if (fields(line, f) != 4) return 8;
            size_t n; uint8_t *t = unhex(f[2], 64, &n), *d = unhex(f[3], 64, &n), h[32];
            pel_history_leaf(strtoull(f[0], NULL, 10), (uint32_t)strtoul(f[1], NULL, 10), t, d, h);
            puthex(h, 32); printf("\n"); free(t); free(d);
        } else if (!strcmp(mode, "incl")) {  /* leaf index size root path */
            if (fields(line, f) != 5) return 8;
            size_t n, pn; uint8_t *lf = unhex(f[0], 64, &n), *rt = unhex(f[3], 64, &n);
            uint8_t (*p)[32];
            if (hashes(f[4], &p, &pn)) return 9;
            printf("%s\n", cname(pel_history_verify_inclusion(lf, strtoull(f[1], NULL, 10),
                   strtoull(f[2], NULL, 10), (const uint8_t (*)[32])p, pn, rt)));
            free(lf); free(rt); free(p);
        } else if (!strcmp(mode, "cons")) {  /* size1 size2 root1 root2 path */
            if (fields(line, f) != 5) return 8;
            size_t n, pn; uint8_t *r1 = unhex(f[2], 64, &n), *r2 = unhex(f[3], 64, &n);
            uint8_t (*p)[32];
            if (hashes(f[4], &p, &pn)) return 9;
            printf("%s\n", cname(pel_history_verify_consistency(strtoull(f[0], NULL, 10),
                   strtoull(f[1], NULL, 10), r1, r2, (const uint8_t (*)[32])p, pn)));
            free(r1); free(r2); free(p);
        } else if (!strcmp(mode, "proof")) {  /* VKEY; hex of a proof file in */
            size_t n; uint8_t *t = unhex(line, (size_t)got, &n);
            pel_proof p; pel_proof_result r; pel_buf d;
            pel_proof_init(&p); pel_buf_init(&d);
            int rc = pel_proof_parse((const char *)t, n, &p, NULL, 0);
            if (!rc) rc = pel_proof_verify(&p, &keys[0], &r, NULL, 0);
            printf("%s", cname(rc));
            if (!rc && !pel_proof_describe(&p, &r, &d)) { printf(" "); puthex(d.data, d.len); }
            printf("\n"); free(t); pel_buf_free(&d); pel_proof_free(&p);
        } else if (!strcmp(mode, "smtdec")) {
            size_t n; uint8_t *t = unhex(line, (size_t)got, &n);
            pel_smt_proof p;
            printf("%s\n", cname(pel_smt_proof_decode(t, n, &p)));
            free(t);
        } else if (!strcmp(mode, "smtverify")) {  /* root key value|- proof */
            if (fields(line, f) != 4) return 8;
            size_t n, vn, pn; uint8_t *rt = unhex(f[0], 64, &n), *k = unhex(f[1], 64, &n);
            int has = strcmp(f[2], "-") != 0, empty = !strcmp(f[2], "=");
            uint8_t *v = unhex(has && !empty ? f[2] : "", has && !empty ? strlen(f[2]) : 0, &vn);
            uint8_t *pr = unhex(f[3], strlen(f[3]), &pn);
            pel_smt_proof p; pel_key key; memcpy(key.b, k, 32);
            int rc = pel_smt_proof_decode(pr, pn, &p);
            if (!rc) rc = pel_smt_verify(rt, &key, has ? v : NULL, vn, &p);
            printf("%s\n", cname(rc));
            free(rt); free(k); free(v); free(pr);
        } else return 2;
        fflush(stdout);
    }
    free(line);
    return 0;
}
'''


class Helper:
    def __init__(self, exe):
        self.exe = exe

    def run(self, args, lines):
        inp = "".join(x + "\n" for x in lines)
        r = subprocess.run([self.exe] + list(args), input=inp, capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 0:
            raise RuntimeError("helper %s exited %d: %s" % (args, r.returncode, r.stderr))
        out = r.stdout.split("\n")[:-1]
        if len(out) != len(lines):
            raise RuntimeError("helper %s: %d answers to %d lines" % (args, len(out), len(lines)))
        return out


def build_helper(tmp):
    """Compile the helper against build/libpel.a; None (with the reason) if
    that cannot be done here."""
    lib = os.path.join(ROOT, "build", "libpel.a")
    if not os.path.exists(lib) or not os.path.exists(os.path.join(ROOT, "build", "tests", "state",
                                                                  "test_checkpoint")):
        return None, "build/libpel.a or build/tests/state/test_checkpoint missing (run make tests)"
    cc = None
    for cand in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cand and shutil.which(cand):
            cc = shutil.which(cand)
            break
    if not cc:
        return None, "no C compiler"
    src = os.path.join(tmp, "pelverify_helper.c")
    exe = os.path.join(tmp, "pelverify_helper")
    with open(src, "w") as f:
        f.write(HELPER_C)
    cmd = [cc, "-std=c11", "-D_GNU_SOURCE", "-O1", "-I" + os.path.join(ROOT, "src"), src, lib,
           "-llmdb", "-lmicrohttpd", "-lcjson", "-lcurl", "-lsodium", "-pthread", "-lm", "-o", exe]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        # retry with only what the helper needs
        cmd = cmd[:cmd.index("-llmdb")] + ["-llmdb", "-lsodium", "-pthread", "-lm", "-o", exe]
        r2 = subprocess.run(cmd, capture_output=True, text=True)
        if r2.returncode != 0:
            return None, "compiling the C helper failed:\n" + r.stderr[-2000:]
    return Helper(exe), None


def hx(b):
    return b.hex() if b else ""


def test_agree_with_c(h):
    rnd = random.Random(5)
    # --- the golden note, made by the C code, and its verifier key
    r = subprocess.run([h.exe, "vkey", "01" * 32, "pel-devnet/pel"], capture_output=True, text=True)
    check(r.stdout.strip() == GOLDEN_KEY, "C verifier key of seed 0x01 = golden key")
    g = h.run(["ckpt", "01" * 32], ["%s 42 %s 7 %s 1700000000123" % (
        hx(b"pel-devnet/pel"), bytes(range(32)).hex(), bytes(range(32, 64)).hex())])
    check(bytes.fromhex(g[0]) == GOLDEN_NOTE, "C signs the golden note byte for byte")

    # --- Ed25519: RFC 8032 and the strictness cases, same verdicts
    lines, want = [], []
    for name, seed, pk, msg, sig in RFC8032:
        lines.append("%s %s %s" % (pk, msg or "-", sig))
        want.append(True)
    for name, pk, msg, sig, w in EDGE:
        lines.append("%s %s %s" % (pk.hex(), msg.hex() or "-", sig.hex()))
        want.append(w)
    for i in range(20):   # random keys and messages signed by the test signer
        seed, msg = rnd.randbytes(32), rnd.randbytes(rnd.randrange(0, 300))
        sig = sign(seed, msg)
        lines.append("%s %s %s" % (public_key(seed).hex(), msg.hex() or "-", sig.hex()))
        want.append(True)
        bad = flip(sig, rnd.randrange(512))
        lines.append("%s %s %s" % (public_key(seed).hex(), msg.hex() or "-", bad.hex()))
        want.append(False)
    got = h.run(["ed"], lines)
    names = [n for n, *_ in RFC8032] + [e[0] for e in EDGE] + ["random"] * 40
    dis = []
    for ln, w, g1, nm in zip(lines, want, got, names):
        pk, msg, sig = (bytes.fromhex(x) if x != "-" else b"" for x in ln.split(" "))
        py = pv.ed25519_verify(pk, msg, sig)
        if py != w or (g1 == "PEL_OK") != py:
            dis.append((nm, py, g1, w))
    check(not dis, "Ed25519: Python and C (libsodium) agree on %d cases %r" % (len(lines), dis))

    # --- checkpoints signed by C: accepted by Python with the same fields
    cks = [("pel-devnet/pel", 42, bytes(range(32)), 7, bytes(range(32, 64)), 1700000000123)]
    for i in range(6):
        cks.append(("chain-%d.example/pel" % i, rnd.choice([0, 1, (1 << 63) - 1, rnd.randrange(1 << 40)]),
                    rnd.randbytes(32), rnd.choice([0, (1 << 64) - 1, rnd.randrange(1 << 32)]),
                    rnd.randbytes(32), rnd.choice([0, (1 << 64) - 1, rnd.randrange(1 << 45)])))
    cks.append(("\u00e9t\u00e9-\u2603/pel", 5, bytes(32), 1, bytes(32), 2))
    notes = []
    for i, c in enumerate(cks):
        seed = bytes([i + 1]) * 32
        r = subprocess.run([h.exe, "vkey", seed.hex(), c[0]], capture_output=True, text=True)
        vkey = r.stdout.strip()
        note = bytes.fromhex(h.run(["ckpt", seed.hex()], ["%s %d %s %d %s %d" % (
            hx(c[0].encode()), c[1], c[2].hex(), c[3], c[4].hex(), c[5])])[0])
        try:
            ck = pv.verify_checkpoint(note, vkey)
            ok = (ck["origin"], ck["size"], ck["root"], ck["height"], ck["state_root"],
                  ck["timestamp_ms"]) == c
        except pv.VerifyError as e:
            ok = False
            print("  python rejects C checkpoint %r: %s" % (c[0], e))
        check(ok, "C-signed checkpoint %d (%s) accepted by Python, same fields" % (i, c[0]))
        body = note.decode()[:note.decode().rfind("\n\n") + 1]
        check(make_note(body, [(c[0], seed)]) == note,
              "C and the test signer sign checkpoint %d identically" % i)
        notes.append((note, vkey, seed, c))

    # --- tampered checkpoints: same verdict, fault for fault
    def compare_ckverify(vkey, cand, label):
        got = h.run(["ckverify", vkey], [x.hex() for x in cand])
        dis = []
        acc = 0
        for x, g1 in zip(cand, got):
            py = code_of(lambda: pv.verify_checkpoint(x, vkey))
            c_code = g1.split(" ")[0]
            acc += c_code == "PEL_OK"
            if py != c_code:
                dis.append((py, c_code, x[:120]))
        check(not dis, "%s: Python and C agree on %d notes (%d disagreements, first %r)"
              % (label, len(cand), len(dis), dis[:3]))
        return acc

    cand = [b for _, _, b in tampered_notes(GOLDEN_NOTE, xors=(0x01, 0x80))]
    acc = compare_ckverify(GOLDEN_KEY, cand, "golden note, every byte xor 01 and 80")
    check(acc == 0, "C rejects every tampered golden note (%d accepted)" % acc)
    for note, vkey, seed, c in notes[1:4]:
        cand = [b for i, _, b in tampered_notes(note, xors=(0x01, 0x40)) if i % 3 == 0]
        compare_ckverify(vkey, cand, "C checkpoint %s, tampered" % c[0])
    # structured: other bodies signed correctly by the right key (parse faults)
    seed = b"\x01" * 32
    cand = []
    for code, what, text in CKPT_CASES:
        if not text.endswith("\n") or "\r" in text or "\t" in text or "\n\n" in text or not text:
            continue
        cand.append(make_note(text, [("pel-devnet/pel", seed)]))
    cand.append(make_note(ck_text(), [("witness", b"\x09" * 32), ("pel-devnet/pel", seed)]))
    cand.append(make_note(ck_text(), [("pel-devnet/pel", seed)] * 2))
    cand.append(make_note(ck_text(), [("pel-devnet/pel", b"\x02" * 32)]))
    compare_ckverify(GOLDEN_KEY, cand, "checkpoint bodies signed by the golden key")

    # --- checkpoint bodies, unsigned: pel_checkpoint_parse vs parse_checkpoint
    texts = [t.encode("utf-8") for _, _, t in CKPT_CASES]
    texts += [b"pel-devnet/pel\n42\n\xff\n", b"\xc0\xaf\n1\n2\n"]
    for i in range(len(GOLDEN_TEXT)):   # every byte of the golden body, xor 01
        b = bytearray(GOLDEN_TEXT.encode())
        b[i] ^= 1
        texts.append(bytes(b))
    texts = [t for t in texts if t]      # the helper reads one hex line per text
    got = h.run(["ckparse"], [t.hex() for t in texts])
    dis = [(t, code_of(lambda: pv.parse_checkpoint(t)), g1) for t, g1 in zip(texts, got)
           if code_of(lambda: pv.parse_checkpoint(t)) != g1]
    check(not dis, "checkpoint parse: Python and C agree on %d bodies (%d disagree: %r)"
          % (len(texts), len(dis), dis[:4]))

    # --- verifier keys
    keys = [GOLDEN_KEY, GOLDEN_KEY + "\n", GOLDEN_KEY + " ", GOLDEN_KEY.replace("412f", "412F"),
            GOLDEN_KEY.replace("+AYq", "+Aoq"), GOLDEN_KEY.rstrip("c") + "d",
            "pel devnet+412fcbd5+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c",
            "+412fcbd5+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c", "abc", "a+b+c",
            "pel-devnet/pel+412fcbd5+", "pel-devnet/pel++AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c",
            vkey_of("x", b"\x03" * 32), vkey_of("\u00e9", b"\x03" * 32), vkey_of("n" * 255, b"\x03" * 32)]
    t8 = list(torsion_points())
    for t in t8 + [(pv._P + 1).to_bytes(32, "little"),
                   enc(pv._add(pv._mul(7, pv._B), torsion_points()[t8[1]]))]:
        keys.append("w+%s+%s" % (pv.note_key_id("w", t).hex(), base64.b64encode(b"\x01" + t).decode()))
    kb = [k.encode("utf-8") for k in keys]
    for i in range(len(GOLDEN_KEY)):
        for x in (0x01, 0x20, 0x80):
            k = bytearray(GOLDEN_KEY.encode())
            k[i] ^= x
            kb.append(bytes(k))
    got = h.run(["vkparse"], [k.hex() for k in kb])
    dis = []
    for k, g1 in zip(kb, got):
        if g1 == "NUL":
            continue
        py = code_of(lambda: pv.parse_verifier_key(k))
        if py != g1:
            dis.append((k, py, g1))
    check(not dis, "verifier keys: Python and C agree on %d strings (%r)" % (len(kb), dis[:4]))

    # --- notes with several signers, opened with several keys
    sa, sb, sc = b"\xaa" * 32, b"\xbb" * 32, b"\xcc" * 32
    ka, kb_, kc = vkey_of("alice", sa), vkey_of("bob", sb), vkey_of("carol", sc)
    text = "hello\n\nworld\n"
    la, lb = sig_line("alice", sa, text), sig_line("bob", sb, text)
    bad_b = sig_line("bob", sb, "other\n")
    raw_short = pv.note_key_id("alice", public_key(sa)) + b"\x00" * 10
    notes2 = [
        make_note(text, [("alice", sa), ("bob", sb)]),
        (text + "\n" + la + bad_b).encode(),
        (text + "\n" + la + la).encode(),
        (text + "\n" + la + lb * 99).encode(),
        (text + "\n" + la + lb * 100).encode(),
        (text + "\n" + la + "\u2014 x\n" * 100).encode(),
        (text + "\n\u2014 alice " + base64.b64encode(raw_short).decode() + "\n").encode(),
        (text + "\n" + la.replace("alice", "bob")).encode(),
        ("\n\n" + sig_line("alice", sa, "\n")).encode(),
        ("x\n\n\n" + sig_line("alice", sa, "x\n\n")).encode(),
        ("x\n\n" + sig_line("alice", sa, "x\n") + "\n").encode(),
        make_note("a\x7fb\n", [("alice", sa)]),
        make_note("\u0085\n", [("alice", sa)]),
        make_note("\ufeffbom\n", [("alice", sa)]),
        (text + "\n\u2014 " + "n" * 256 + " " + la.split(" ")[2]).encode(),
    ]
    for i in range(3):   # C cosigns a Python note
        cos = bytes.fromhex(h.run(["cosign", sc.hex(), "carol"], [notes2[0].hex()])[0])
        notes2.append(cos)
    c_signed = bytes.fromhex(h.run(["sign", sa.hex(), "alice"], [text.encode().hex()])[0])
    check(c_signed == make_note(text, [("alice", sa)]), "C and the test signer sign notes identically")
    for n_ in list(notes2[:3]):
        notes2 += [b for i, _, b in tampered_notes(n_, xors=(0x01,)) if i % 4 == 0]
    for n_ in list(notes2[3:5]):   # 100 and 101 lines: the first, a middle and the last line
        for i in (len(text) + 5, len(text) + 40, len(n_) // 2, len(n_) - 10, len(n_) - 1):
            b = bytearray(n_)
            b[i] ^= 1
            notes2.append(bytes(b))
    for keyset in ([ka], [ka, kb_], [kc, ka], [ka, ka], []):
        got = h.run(["open"] + keyset, [x.hex() for x in notes2])
        dis = []
        for x, g1 in zip(notes2, got):
            try:
                _, nm = pv.open_note(x, keyset)
                parsed = [pv.parse_verifier_key(k).name for k in keyset]
                py = "PEL_OK " + " ".join(str(parsed.index(a)) for a in nm)
            except pv.VerifyError as e:
                py = e.code
            if py.strip() != g1.strip():
                dis.append((py, g1, x[:80]))
        check(not dis, "open_note with %d keys: Python and C agree on %d notes (%d disagree: %r)"
              % (len(keyset), len(notes2), len(dis), dis[:3]))

    # --- history: leaf encoding and proofs
    lines = []
    for i in range(20):
        lines.append((rnd.choice([0, 1, (1 << 64) - 1, rnd.randrange(1 << 64)]),
                      rnd.choice([0, (1 << 32) - 1, rnd.randrange(1 << 32)]), rnd.randbytes(32), rnd.randbytes(32)))
    got = h.run(["leaf"], ["%d %d %s %s" % (a, b, c.hex(), d.hex()) for a, b, c, d in lines])
    check(all(pv.history_leaf_hash(*ln).hex() == g1 for ln, g1 in zip(lines, got)),
          "history leaf hash: Python and C agree")
    leaves = [H(b"\x00" + bytes([i])) for i in range(70)]
    ref = Ref(leaves)
    incl, cons = [], []
    for n in range(1, 70):
        root = ref.mth(0, n)
        for m in range(0, n, max(1, n // 7)):
            path = ref.path(m, 0, n)
            incl.append((leaves[m], m, n, path, root))
            incl.append((leaves[m], m, n + 1, path, root))
            incl.append((leaves[m], m ^ 1, n, path, root))
            if path:
                incl.append((leaves[m], m, n, path[:-1], root))
                incl.append((leaves[m], m, n, [flip(path[0], 3)] + path[1:], root))
            incl.append((leaves[m], m, n, path + [root], root))
        for m in range(0, n + 2, max(1, n // 6)):
            if m == 0:
                cons.append((0, n, H(b""), root, []))
                continue
            if m > n:
                cons.append((m, n, root, root, []))
                continue
            r1 = ref.mth(0, m)
            proof = ref.proof(m, n)
            cons.append((m, n, r1, root, proof))
            cons.append((m, n + 1, r1, root, proof))
            cons.append((m - 1, n, r1, root, proof))
            cons.append((m, n, r1, root, proof + [root]))
            if proof:
                cons.append((m, n, r1, root, proof[:-1]))
                cons.append((m, n, flip(r1, 9), root, proof))
                cons.append((m, n, r1, root, [flip(proof[0], 1)] + proof[1:]))
    got = h.run(["incl"], ["%s %d %d %s %s" % (lf.hex(), m, n, rt.hex(), "".join(p.hex() for p in pa) or "-")
                           for lf, m, n, pa, rt in incl])
    dis = [(m, n, len(pa)) for (lf, m, n, pa, rt), g1 in zip(incl, got)
           if (g1 == "PEL_OK") != pv.verify_inclusion(lf, m, n, pa, rt)]
    check(not dis, "inclusion: Python and C agree on %d proofs (%r)" % (len(incl), dis[:5]))
    got = h.run(["cons"], ["%d %d %s %s %s" % (m, n, r1.hex(), r2.hex(), "".join(p.hex() for p in pa) or "-")
                           for m, n, r1, r2, pa in cons])
    dis = [(m, n, len(pa)) for (m, n, r1, r2, pa), g1 in zip(cons, got)
           if (g1 == "PEL_OK") != pv.verify_consistency(m, n, r1, r2, pa)]
    check(not dis, "consistency: Python and C agree on %d proofs (%r)" % (len(cons), dis[:5]))
    print("  C agreement: %d inclusion, %d consistency cases" % (len(incl), len(cons)))

    # --- state-tree proofs made by the Python reference: decode and verify
    lines, want = [], []
    for keys, vals, root, items in smt_sets(random.Random(3)):
        for i, key in enumerate(keys + [rnd.randbytes(32) for _ in range(5)]):
            enc_ = ref_smt_prove(items, pv.smt_path(key))
            claim = vals[i] if i < len(keys) else None
            for e, c in [(enc_, claim), (enc_, b"?"), (enc_, None)] + [
                    (flip(enc_, rnd.randrange(len(enc_) * 8)), claim) for _ in range(4)]:
                lines.append("%s %s %s %s" % (root.hex(), key.hex(),   # "=": the empty value
                                              "-" if c is None else (c.hex() or "="), e.hex()))
                try:
                    want.append("PEL_OK" if pv.verify_state(root, key, c, pv.decode_state_proof(e))
                                else "PEL_EPROOF")
                except pv.VerifyError as x:
                    want.append(x.code)
    keep = list(zip(lines, want))
    got = h.run(["smtverify"], [ln for ln, _ in keep])
    dis = [(ln[:60], w, g1) for (ln, w), g1 in zip(keep, got) if w != g1]
    check(not dis and len(keep) > 300, "state proofs: Python and C agree on %d claims (%r)"
          % (len(keep), dis[:4]))
    encs = [ref_smt_prove(items, pv.smt_path(rnd.randbytes(32)))
            for _, _, _, items in smt_sets(random.Random(4))]
    cand = [b"", b"\x00", b"\x03\x00", b"\x01\x00\x00", b"\x01\x41", b"\x01\x01\x00"]
    for e in encs:
        cand += [e, e + b"\x00", e[:-1]] + [flip(e, b) for b in range(0, len(e) * 8, 3)]
    got = h.run(["smtdec"], [c.hex() for c in cand])
    dis = [(c.hex()[:40], code_of(lambda: pv.decode_state_proof(c)), g1)
           for c, g1 in zip(cand, got) if code_of(lambda: pv.decode_state_proof(c)) != g1]
    check(not dis, "state proof decoding: Python and C agree on %d encodings (%r)"
          % (len(cand), dis[:4]))

    # --- proof files: the vectors and changed copies, fault for fault
    files, key, _ = load_vectors()
    t0 = time.time()
    cand = list(files) + proof_variants(files, rnd) + json_variants(files)

    def compare_proofs(vkey, cand, label):
        got = h.run(["proof", vkey], [d.hex() for _, d in cand])
        dis, codes, accepted = [], {}, []
        for (lbl, d), g1 in zip(cand, got):
            try:
                py = "PEL_OK " + pv.verify_proof(d, vkey)["description"].encode().hex()
                accepted.append(lbl)
            except pv.VerifyError as e:
                py = e.code
            codes[py.split(" ")[0]] = codes.get(py.split(" ")[0], 0) + 1
            if py != g1:
                dis.append((lbl, py[:30], g1[:30]))
        check(not dis, "%s: Python and C agree on %d files (%d disagree: %r)"
              % (label, len(cand), len(dis), dis[:4]))
        return codes, accepted

    codes, accepted = compare_proofs(key, cand, "proof files and changed copies")
    print("  proof files: %d files, verdicts %s (%.1f s)"
          % (len(cand), sorted(codes.items()), time.time() - t0))
    # What may verify: the files, JSON edits that keep the content (white
    # space, escapes), and another key against an absence proof whose walk
    # it shares (it is absent too). Nothing else.
    same = [("json edit %d %r" % (i, b[:50])) for i, (a, b) in enumerate(JSON_EDITS)
            if b in ('\n}\n\n \t\r', '"tx": "\\u0037f', '"p\\u0065l_proof": "\\u0031",',
                     '\\n\\n\\u2014', '\\n\\u000a\u2014')]
    allowed = set(n for n, _ in files) | set(same) | {"just at the limit"}
    odd = [a for a in accepted if a not in allowed and not (
        " key bit " in a and a.split(" ")[0] in ("state_absent_empty.json", "state_absent_leaf.json",
                                                   "state_deleted.json", "state_empty_tree.json"))]
    check(not odd and len(set(same)) == 5, "only content-preserving changes verify (%r)" % odd[:5])
    check(all(a in accepted for a in allowed), "the content-preserving changes verify (%r)"
          % sorted(allowed - set(accepted)))
    for other in (vkey_of("pel-devnet/pel", b"\x02" * 32), vkey_of("other/pel", b"\x01" * 32)):
        codes, _ = compare_proofs(other, list(files), "proof files, another key")
        check(codes == {"PEL_ENOTE_UNVERIFIED": len(files)}, "another key: %r" % codes)


# --------------------------------------------------------------------- main

def main():
    tests = [("rfc8032", test_rfc8032), ("ed25519_strict", test_ed25519_strict),
             ("golden", test_golden), ("golden_tamper", test_golden_tamper),
             ("note_rules", test_note_rules), ("verifier_keys", test_verifier_keys),
             ("checkpoint_parse", test_checkpoint_parse), ("rfc9162", test_rfc9162),
             ("history_leaf", test_history_leaf), ("state_tree", test_state_tree)]
    tmp = tempfile.mkdtemp(prefix="pelverify.")
    global FAILED
    try:
        tests.append(("cli", lambda: test_cli(tmp)))
        tests.append(("proof_files", lambda: test_proof_files(tmp)))
        for name, fn in tests:
            t0 = time.time()
            try:
                fn()
            except Exception:  # noqa: BLE001
                FAILED += 1
                print("FAIL: %s raised:\n%s" % (name, traceback.format_exc()))
            print("  %-18s %.1f s" % (name, time.time() - t0))
        t0 = time.time()
        h, why = build_helper(tmp)
        if h is None:
            print("  SKIP agreement with the C verifier: %s" % why)
        else:
            try:
                test_agree_with_c(h)
            except Exception:  # noqa: BLE001
                FAILED += 1
                print("FAIL: agreement with C raised:\n%s" % traceback.format_exc())
            print("  %-18s %.1f s" % ("agree_with_c", time.time() - t0))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_pelverify: %d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
