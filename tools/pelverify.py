#!/usr/bin/env python3
"""pelverify - an independent offline verifier of PEL's proofs.

Written from docs/PROOFS.md (and the headers it points to), in Python 3
with the standard library only, so that PEL's C verifier has a second
implementation to disagree with. Nothing here is shared with the C code.

What it checks today:
  - Ed25519 signatures (RFC 8032 section 5.1.7) with PEL's strict rules:
    S < L, canonical encodings (y < p) of A and R, neither of small order,
    A in the prime-order subgroup ([L]A = identity), cofactorless equation
    [S]B = R + [k]A;
  - C2SP signed notes (c2sp.org/signed-note): key ids, verifier key
    strings, signature lines, the acceptance rules of PEL's pel_note_open;
  - PEL checkpoints (the six-line tlog-checkpoint body of docs/PROOFS.md);
  - RFC 9162 Merkle inclusion (section 2.1.3.2) and consistency
    (section 2.1.4.2) proofs over the history tree, and its leaf hash;
  - the state tree's proofs (docs/PROOFS.md section 2): the decoder of
    their canonical encoding and the fold to the root;
  - PEL proof files (docs/PROOFS.md section 4): "tx", "state" and
    "consistency" files, parsed as strictly as PEL's C reader.

Command line:
  python3 tools/pelverify.py checkpoint NOTE_FILE --key VERIFIER_KEY
      prints what the checkpoint proves, or exactly what failed; exit 0 when
      it verifies, 1 when it does not, 2 on a usage error.
  python3 tools/pelverify.py verify PROOF_FILE --key VERIFIER_KEY
      prints what the proof file proves (first line: exactly the line of
      PEL's pel_proof_describe), or "FAILED: <message> (<C code name>)";
      exit 0 when it verifies, 1 when it does not (an unreadable file or a
      bad key included), 2 on a usage error.

As a module: ed25519_verify, note_key_id, parse_verifier_key, open_note,
parse_checkpoint, verify_checkpoint, verify_inclusion, verify_consistency,
history_leaf_hash, merkle_leaf_hash, merkle_node_hash, tagged_hash,
smt_path, decode_state_proof, verify_state, parse_proof, format_proof,
verify_proof, describe_proof. Failures raise VerifyError (or a subclass),
whose .code is the name of the C error code PEL's verifier reports for the
same fault (e.g. "PEL_ENOTE_BADSIG"), so that the two implementations can
be compared fault for fault.

Where the two may name different faults: only where the C code stops
earlier. For proof files the checks run in the order of docs/PROOFS.md
section 4 in both, and every fault before the version check and after it
up to the values is PEL_EPROOF_FORMAT, so the codes agree; the messages
may differ when a text has several faults of one code: PEL's reader stops
at the first JSON fault, at the 17th member or at nesting 33, while
Python's json module reads the whole text first (and reports its own
first fault), then this module checks nesting, lone surrogates and the
member count. Within a checkpoint note, the order is the one of open_note
and parse_checkpoint below (the same as PEL's, tested fault for fault).
"""

import base64
import binascii
import hashlib
import json
import sys

__all__ = [
    "VerifyError", "NoteError", "VerifierKeyError", "CheckpointError",
    "ed25519_verify", "ed25519_key_valid",
    "note_key_id", "note_name_valid", "parse_verifier_key", "Verifier",
    "open_note", "parse_checkpoint", "verify_checkpoint",
    "merkle_leaf_hash", "merkle_node_hash", "empty_root",
    "history_leaf_hash", "verify_inclusion", "verify_consistency",
    "tagged_hash", "smt_path", "smt_value_hash", "smt_leaf_hash", "smt_pair",
    "StateProof", "decode_state_proof", "state_proof_root", "verify_state",
    "parse_proof", "format_proof", "verify_proof", "describe_proof",
    "main",
]


# =====================================================================
# errors
# =====================================================================

class VerifyError(ValueError):
    """A proof, note, key or checkpoint that does not verify.

    code: the matching C error name (src/core/err.h), e.g. "PEL_ENOTE".
    """

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.detail = message


class NoteError(VerifyError):
    """A signed note that is malformed or not signed as required."""


class VerifierKeyError(VerifyError):
    """A verifier key string that is malformed or names a weak key."""


class CheckpointError(VerifyError):
    """A checkpoint body that is not exactly PEL's six lines."""


# =====================================================================
# Ed25519 (RFC 8032 section 5.1), verification only, strict
# =====================================================================
#
# The curve is the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 over
# GF(p), p = 2^255 - 19. Points are kept in extended homogeneous
# coordinates (X : Y : Z : T) with x = X/Z, y = Y/Z, x*y = T/Z, where the
# addition law for a = -1 (Hisil, Wong, Carter, Dawson 2008) is complete
# because d is not a square. Nothing here needs to be constant time: a
# verifier handles only public data.

_P = (1 << 255) - 19
_L = (1 << 252) + 27742317777372353535851937790883648493
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_D2 = (2 * _D) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)        # a square root of -1 mod p


def _recover_x(y, sign):
    """The x with x^2 = (y^2 - 1) / (d y^2 + 1) and parity `sign`, or None."""
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    # Candidate root x = u v^3 (u v^7)^((p-5)/8) (p = 5 mod 8), then fix the
    # sign of the square by sqrt(-1) if needed (RFC 8032 section 5.1.3).
    v3 = v * v % _P * v % _P
    x = u * v3 % _P * pow(u * v3 % _P * v3 % _P * v % _P, (_P - 5) // 8, _P) % _P
    vxx = v * x % _P * x % _P
    if vxx == u:
        pass
    elif vxx == (-u) % _P:
        x = x * _SQRT_M1 % _P
    else:
        return None                       # (y^2-1)/(dy^2+1) is not a square
    if x == 0 and sign == 1:
        return None                       # "-0": a non-canonical encoding
    if (x & 1) != sign:
        x = _P - x
    return x


def _decode_point(b):
    """Strict decoding of a 32-byte point: None unless y < p, the point is
    on the curve, and the sign bit is not set on x = 0."""
    if len(b) != 32:
        return None
    n = int.from_bytes(b, "little")
    sign = n >> 255
    y = n & ((1 << 255) - 1)
    if y >= _P:
        return None
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


_IDENTITY = (0, 1, 1, 0)


def _add(p1, p2):
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = t1 * _D2 % _P * t2 % _P
    dd = 2 * z1 * z2 % _P
    e, f, g, h = b - a, dd - c, dd + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _double(p1):
    x1, y1, z1, _ = p1
    a = x1 * x1 % _P
    b = y1 * y1 % _P
    c = 2 * z1 * z1 % _P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1) % _P
    g = a - b
    f = c + g
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(n, pt):
    """[n]pt for n >= 0: fixed 4-bit windows, most significant first."""
    table = [_IDENTITY, pt]
    for _ in range(14):
        table.append(_add(table[-1], pt))
    acc = _IDENTITY
    for shift in range((n.bit_length() + 3) // 4 * 4 - 4, -1, -4):
        acc = _double(_double(_double(_double(acc))))
        w = (n >> shift) & 15
        if w:
            acc = _add(acc, table[w])
    return acc


def _same(p1, p2):
    x1, y1, z1, _ = p1
    x2, y2, z2, _ = p2
    return (x1 * z2 - x2 * z1) % _P == 0 and (y1 * z2 - y2 * z1) % _P == 0


def _is_identity(pt):
    return _same(pt, _IDENTITY)


def _small_order(pt):
    """True if [8]pt is the identity (pt is one of the 8 torsion points)."""
    return _is_identity(_double(_double(_double(pt))))


_BY = 4 * pow(5, _P - 2, _P) % _P
_BX = _recover_x(_BY, 0)
_B = (_BX, _BY, 1, _BX * _BY % _P)

# [2^i]B for i < 253, so that [s]B costs one addition per set bit of s.
_B_POW2 = [_B]
for _i in range(252):
    _B_POW2.append(_double(_B_POW2[-1]))
del _i


def _mul_base(s):
    """[s]B for 0 <= s < 2^253."""
    acc = _IDENTITY
    i = 0
    while s:
        if s & 1:
            acc = _add(acc, _B_POW2[i])
        s >>= 1
        i += 1
    return acc


# Public keys that passed _strict_point (the [L]A check costs as much as the
# rest of a verification); bounded, cleared when full.
_GOOD_KEYS = {}


def _strict_point(b):
    """The point b encodes if it is canonical, not of small order and in the
    prime-order subgroup; else None. (crypto_core_ed25519_is_valid_point.)"""
    pt = _GOOD_KEYS.get(b)
    if pt is not None:
        return pt
    pt = _decode_point(b)
    if pt is None or _small_order(pt) or not _is_identity(_mul(_L, pt)):
        return None
    if len(_GOOD_KEYS) >= 1024:
        _GOOD_KEYS.clear()
    _GOOD_KEYS[b] = pt
    return pt


def ed25519_key_valid(pk):
    """True if pk is a public key PEL accepts (canonical, prime order)."""
    return isinstance(pk, (bytes, bytearray)) and _strict_point(bytes(pk)) is not None


def ed25519_verify(pk, msg, sig):
    """Strict Ed25519 verification: True iff sig is PEL-valid for msg, pk."""
    pk, msg, sig = bytes(pk), bytes(msg), bytes(sig)
    if len(pk) != 32 or len(sig) != 64:
        return False
    a = _strict_point(pk)
    if a is None:
        return False
    r = _decode_point(sig[:32])
    if r is None or _small_order(r):
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(sig[:32] + pk + msg).digest(), "little") % _L
    return _same(_mul_base(s), _add(r, _mul(k, a)))


# =====================================================================
# C2SP signed notes
# =====================================================================

NOTE_NAME_MAX = 255
NOTE_MAX_SIGS = 100
_ALG_ED25519 = 0x01
_SIG_PREFIX = "\u2014 "                    # EM DASH, space (E2 80 94 20)

# Go's unicode.IsSpace: the Unicode White_Space property. Written out rather
# than taken from str.isspace(), which is a different set (it also holds
# U+001C..U+001F, the information separators).
_GO_SPACES = frozenset(
    [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680]
    + list(range(0x2000, 0x200B))
    + [0x2028, 0x2029, 0x202F, 0x205F, 0x3000])


def _b64_canonical(s, what, exc, code):
    """Decode canonical padded standard base64 (RFC 4648 section 4)."""
    try:
        raw = base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise exc(code, "%s is not base64" % what) from None
    if base64.b64encode(raw).decode("ascii") != s:
        raise exc(code, "%s is not canonical padded base64" % what)
    return raw


def note_name_valid(name, max_bytes=NOTE_NAME_MAX):
    """A C2SP key name as PEL accepts it: non-empty, no white space (Go's
    unicode.IsSpace), no "+", no control character, at most 255 bytes (the
    limit applies to PEL's own keys and origins; a name in a signature line
    may be longer, max_bytes=None, and then matches no key)."""
    if not isinstance(name, str) or name == "":
        return False
    try:
        raw = name.encode("utf-8")              # fails on lone surrogates
    except UnicodeEncodeError:
        return False
    if max_bytes is not None and len(raw) > max_bytes:
        return False
    for ch in name:
        c = ord(ch)
        if c < 0x20 or c in _GO_SPACES or ch == "+":
            return False
    return True


def note_key_id(name, pk):
    """Key id of Ed25519 key pk under `name`: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pk)[:4]."""
    if isinstance(name, str):
        name = name.encode("utf-8")
    return hashlib.sha256(bytes(name) + b"\n" + bytes([_ALG_ED25519]) + bytes(pk)).digest()[:4]


class Verifier:
    """A known note key: name, 4-byte key id, 32-byte Ed25519 public key."""

    __slots__ = ("name", "key_id", "pk")

    def __init__(self, name, key_id, pk):
        self.name, self.key_id, self.pk = name, bytes(key_id), bytes(pk)

    def __repr__(self):
        return "Verifier(%r, %s)" % (self.name, self.key_id.hex())

    def __str__(self):
        return "%s+%s+%s" % (self.name, self.key_id.hex(),
                             base64.b64encode(bytes([_ALG_ED25519]) + self.pk).decode())

    @classmethod
    def from_key(cls, name, pk):
        if not note_name_valid(name):
            raise VerifierKeyError("PEL_ENOTE_NAME", "invalid key name %r" % name)
        if not ed25519_key_valid(pk):
            raise VerifierKeyError("PEL_EBADKEY", "not a valid Ed25519 public key")
        return cls(name, note_key_id(name, pk), pk)


def parse_verifier_key(s):
    """Parse "<name>+<8 lowercase hex key id>+<base64(0x01 ‖ pk)>" strictly.

    Returns a Verifier; raises VerifierKeyError with code PEL_EVKEY (layout, hex,
    base64, length), PEL_ENOTE_NAME, PEL_EVKEY_ALG, PEL_EVKEY_ID or
    PEL_EBADKEY (weak or non-canonical public key)."""
    if isinstance(s, str):
        try:
            s = s.encode("utf-8")
        except UnicodeEncodeError:
            raise VerifierKeyError("PEL_EVKEY", "verifier key is not UTF-8") from None
    s = bytes(s)
    # Checked in this order (the order of PEL's C parser, which decides the
    # error code when a string has several faults): two "+" separators, the
    # name, the id, the base64, the algorithm byte, the length, the id's
    # value, the point.
    name_b, plus1, rest = s.partition(b"+")
    key_id_b, plus2, b64_b = rest.partition(b"+")
    if not plus1 or not plus2:
        raise VerifierKeyError("PEL_EVKEY", "verifier key is not <name>+<id>+<key>")
    try:
        name = name_b.decode("utf-8")
    except UnicodeDecodeError:
        raise VerifierKeyError("PEL_ENOTE_NAME", "key name is not UTF-8") from None
    if not note_name_valid(name):
        raise VerifierKeyError("PEL_ENOTE_NAME", "invalid key name %r" % name)
    key_id_hex = key_id_b.decode("latin-1")
    if len(key_id_hex) != 8 or any(c not in "0123456789abcdef" for c in key_id_hex):
        raise VerifierKeyError("PEL_EVKEY", "key id %r is not 8 lowercase hex digits" % key_id_hex)
    raw = _b64_canonical(b64_b.decode("latin-1"), "verifier key", VerifierKeyError, "PEL_EVKEY")
    if not raw:
        raise VerifierKeyError("PEL_EVKEY", "verifier key holds no key")
    if raw[0] != _ALG_ED25519:
        raise VerifierKeyError("PEL_EVKEY_ALG", "key algorithm 0x%02x is not Ed25519 (0x01)" % raw[0])
    if len(raw) != 33:
        raise VerifierKeyError("PEL_EVKEY", "verifier key holds %d bytes, not 33" % len(raw))
    pk = raw[1:]
    key_id = bytes.fromhex(key_id_hex)
    if note_key_id(name, pk) != key_id:
        raise VerifierKeyError("PEL_EVKEY_ID", "key id %s does not match name and key (%s)"
                        % (key_id_hex, note_key_id(name, pk).hex()))
    if not ed25519_key_valid(pk):
        raise VerifierKeyError("PEL_EBADKEY", "public key is not a canonical prime-order point")
    return Verifier(name, key_id, pk)


def _as_verifier(v):
    if isinstance(v, Verifier):
        return v
    return parse_verifier_key(v)


def _decode_note(note):
    """The note as str, if it is UTF-8 with no control character but "\\n"."""
    if isinstance(note, str):
        try:
            note.encode("utf-8")
        except UnicodeEncodeError:
            raise NoteError("PEL_ENOTE", "note is not valid UTF-8") from None
        txt = note
    else:
        try:
            txt = bytes(note).decode("utf-8", errors="strict")
        except UnicodeDecodeError as e:
            raise NoteError("PEL_ENOTE", "note is not valid UTF-8 (byte %d)" % e.start) from None
    for i, ch in enumerate(txt):
        if ch < " " and ch != "\n":
            raise NoteError("PEL_ENOTE", "control character U+%04X at character %d"
                            % (ord(ch), i))
    return txt


def open_note(note, verifiers):
    """Split a C2SP signed note and check its signatures, as pel_note_open.

    note: bytes (or str). verifiers: Verifier objects or verifier key strings.
    Returns (text, verified_names): the signed text (final newline included)
    and the names of the distinct known keys that verified, in the order of
    their first signature line. Raises NoteError:
      PEL_ENOTE            malformed (UTF-8, control characters, no blank
                           line, no signature line, bad signature line);
      PEL_ENOTE_TOOMANY    more than 100 signature lines (lines are checked
                           in order, so a malformed line among the first
                           101 is reported as PEL_ENOTE instead);
      PEL_ENOTE_BADSIG     a known key's signature does not verify;
      PEL_ENOTE_AMBIGUOUS  a line matches two known keys;
      PEL_ENOTE_UNVERIFIED no known key signed.
    """
    keys = [_as_verifier(v) for v in verifiers]
    txt = _decode_note(note)
    # 1. syntax, all of it before any signature is checked.
    if not txt.endswith("\n"):
        raise NoteError("PEL_ENOTE", "note does not end in a newline")
    split = txt.rfind("\n\n")
    if split < 0:
        raise NoteError("PEL_ENOTE", "no blank line before the signatures")
    text, sigblock = txt[:split + 1], txt[split + 2:]
    if sigblock == "":
        raise NoteError("PEL_ENOTE", "no signature line after the last blank line")
    # Lines are checked in order; the 101st well-formed line is the fault
    # "too many" (so a malformed line before it reports PEL_ENOTE).
    parsed = []
    for n, line in enumerate(sigblock[:-1].split("\n"), 1):
        if not line.startswith(_SIG_PREFIX):
            raise NoteError("PEL_ENOTE", "signature line %d does not start with "
                            "U+2014 and a space" % n)
        name, sp, b64 = line[len(_SIG_PREFIX):].partition(" ")
        if not sp or not note_name_valid(name, max_bytes=None):
            raise NoteError("PEL_ENOTE", "signature line %d: bad key name or layout" % n)
        raw = _b64_canonical(b64, "signature line %d" % n, NoteError, "PEL_ENOTE")
        if len(raw) < 5:
            raise NoteError("PEL_ENOTE", "signature line %d holds %d bytes (at least 5)"
                            % (n, len(raw)))
        if n > NOTE_MAX_SIGS:
            raise NoteError("PEL_ENOTE_TOOMANY", "more than %d signature lines"
                            % NOTE_MAX_SIGS)
        parsed.append((n, name, raw[:4], raw[4:]))
    # 2. every line by a known (name, key id) is verified; one failure rejects.
    msg = text.encode("utf-8")
    verified = []
    for n, name, key_id, sig in parsed:
        match = [k for k in keys if k.name == name and k.key_id == key_id]
        if not match:
            continue
        if len(match) > 1:
            raise NoteError("PEL_ENOTE_AMBIGUOUS", "signature line %d matches %d known keys"
                            % (n, len(match)))
        k = match[0]
        if not ed25519_verify(k.pk, msg, sig):
            raise NoteError("PEL_ENOTE_BADSIG", "signature line %d by %s+%s does not verify"
                            % (n, name, key_id.hex()))
        if k.name not in verified:
            verified.append(k.name)
    # 3. at least one known key.
    if not verified:
        seen = ", ".join("%s+%s" % (name if len(name) <= 64 else name[:61] + "...", kid.hex())
                         for _, name, kid, _ in parsed[:5])
        raise NoteError("PEL_ENOTE_UNVERIFIED", "no signature by a known key (the note is signed "
                        "by %s%s)" % (seen, ", ..." if len(parsed) > 5 else ""))
    return text, verified


# =====================================================================
# checkpoints (docs/PROOFS.md section 1)
# =====================================================================

_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1
_EXTENSIONS = (("height", "num"), ("state-root", "hex"), ("timestamp-ms", "num"))


def _decimal(s, limit, what):
    if s == "" or any(c not in "0123456789" for c in s):
        raise CheckpointError("PEL_ECKPT_NUM", "%s %r is not decimal digits" % (what, s))
    if len(s) > 1 and s[0] == "0":
        raise CheckpointError("PEL_ECKPT_NUM", "%s %r has a leading zero" % (what, s))
    v = int(s)
    if v > limit:
        raise CheckpointError("PEL_ECKPT_NUM", "%s %s is over %d" % (what, s, limit))
    return v


def parse_checkpoint(text):
    """Parse a PEL checkpoint body (the note text), strictly.

    Returns {"origin", "size", "root" (32 bytes), "height", "state_root"
    (32 bytes), "timestamp_ms"}. Raises CheckpointError with the code of the
    first fault, layout (including the number of lines) first, then line by
    line: PEL_ECKPT, PEL_ECKPT_ORIGIN, PEL_ECKPT_NUM, PEL_ECKPT_HASH,
    PEL_ECKPT_EXT. The origin must be a valid key name; the "/pel" suffix
    PEL uses is not required here (verify_checkpoint binds the origin to
    the key's name)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointError("PEL_ECKPT", "checkpoint is not UTF-8") from None
    # Layout first: text ending in a newline without control characters,
    # then the lines in order (an empty one is PEL_ECKPT, a seventh
    # PEL_ECKPT_EXT), then their number (under 3: PEL_ECKPT; 3 to 5: an
    # extension line is missing, PEL_ECKPT_EXT). Then line by line.
    if not text.endswith("\n"):
        raise CheckpointError("PEL_ECKPT", "checkpoint does not end in a newline")
    for i, c in enumerate(text):
        if c < " " and c != "\n":
            raise CheckpointError("PEL_ECKPT", "control character U+%04X at character %d"
                                  % (ord(c), i))
    lines = []
    for i, line in enumerate(text[:-1].split("\n"), 1):
        if line == "":
            raise CheckpointError("PEL_ECKPT", "line %d is empty" % i)
        if i > 6:
            raise CheckpointError("PEL_ECKPT_EXT", "line 7 follows the last extension line")
        lines.append(line)
    if len(lines) < 3:
        raise CheckpointError("PEL_ECKPT", "%d lines, at least 3 needed" % len(lines))
    if len(lines) < 6:
        raise CheckpointError("PEL_ECKPT_EXT", "line %d (%s) is missing"
                              % (len(lines) + 1, _EXTENSIONS[len(lines) - 3][0]))
    origin = lines[0]
    if not note_name_valid(origin):
        raise CheckpointError("PEL_ECKPT_ORIGIN", "origin %r is not a valid key name" % origin)
    size = _decimal(lines[1], _INT64_MAX, "tree size")
    root = _b64_canonical(lines[2], "root hash", CheckpointError, "PEL_ECKPT_HASH")
    if len(root) != 32:
        raise CheckpointError("PEL_ECKPT_HASH", "root hash holds %d bytes, not 32" % len(root))
    out = {"origin": origin, "size": size, "root": root}
    for j, (key, kind) in enumerate(_EXTENSIONS):
        n = 4 + j
        k, sp, v = lines[n - 1].partition(" ")
        if k != key or not sp:
            raise CheckpointError("PEL_ECKPT_EXT", "line %d is not \"%s ...\"" % (n, key))
        if kind == "num":
            out[key.replace("-", "_")] = _decimal(v, _UINT64_MAX, key)
        else:
            if len(v) != 64 or any(c not in "0123456789abcdef" for c in v):
                raise CheckpointError("PEL_ECKPT_HASH",
                                      "state root is not 64 lowercase hex digits")
            out["state_root"] = bytes.fromhex(v)
    return out


def verify_checkpoint(note, key):
    """Open a signed checkpoint with the one key `key` (a Verifier or a
    verifier key string; other signatures are ignored), parse its text and
    require its origin to be the key's name. Returns parse_checkpoint's dict
    plus "text" and "key"."""
    k = _as_verifier(key)
    text, _ = open_note(note, [k])
    ck = parse_checkpoint(text)
    if ck["origin"] != k.name:
        raise CheckpointError("PEL_ECKPT_ORIGIN", "origin %r is not the key's name %r"
                              % (ck["origin"], k.name))
    ck["text"] = text
    ck["key"] = str(k)
    return ck


# =====================================================================
# RFC 9162 history tree
# =====================================================================

def merkle_leaf_hash(data):
    """RFC 9162 leaf hash: SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def merkle_node_hash(left, right):
    """RFC 9162 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + bytes(left) + bytes(right)).digest()


def empty_root():
    """MTH of the empty tree: SHA-256 of the empty string."""
    return hashlib.sha256(b"").digest()


def history_leaf_hash(height, index, txid, receipt_digest):
    """PEL's history leaf: SHA-256(0x00 ‖ u64 LE height ‖ u32 LE index ‖
    txid (32) ‖ receipt digest (32))."""
    if not 0 <= height <= _UINT64_MAX or not 0 <= index <= 0xFFFFFFFF:
        raise ValueError("height must fit u64 and index u32")
    txid, receipt_digest = bytes(txid), bytes(receipt_digest)
    if len(txid) != 32 or len(receipt_digest) != 32:
        raise ValueError("txid and receipt digest are 32 bytes each")
    return merkle_leaf_hash(height.to_bytes(8, "little") + index.to_bytes(4, "little")
                            + txid + receipt_digest)


def _hashes_ok(*hs):
    return all(isinstance(h, (bytes, bytearray)) and len(h) == 32 for h in hs)


def verify_inclusion(leaf_hash, index, size, path, root):
    """RFC 9162 section 2.1.3.2: is leaf_hash leaf `index` of the tree of
    `size` leaves with head `root`, given PATH(index, D[size]) (innermost
    first)? Returns True or False. The proof does not bind `size` (a path
    may fit several sizes): take size and root from a signed checkpoint."""
    path = list(path)
    if not _hashes_ok(leaf_hash, root, *path) or index < 0 or size < 0:
        return False
    if index >= size:                                         # step 1
        return False
    fn, sn = index, size - 1                                  # step 2
    r = bytes(leaf_hash)                                      # step 3
    for p in path:                                            # step 4
        if sn == 0:                                           # 4a
            return False
        if fn & 1 or fn == sn:                                # 4b
            r = merkle_node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = merkle_node_hash(r, p)
        fn >>= 1                                              # 4c
        sn >>= 1
    return sn == 0 and r == bytes(root)                       # step 5


def verify_consistency(size1, size2, root1, root2, path):
    """RFC 9162 section 2.1.4.2: does the tree of size2 leaves with head
    root2 extend the tree of size1 leaves with head root1, given
    PROOF(size1, D[size2])? Returns True or False.

    Outside 0 < size1 < size2 (where the RFC's algorithm applies) PEL's
    rules (docs/PROOFS.md section 1, src/state/history.h): size1 == size2 > 0
    verifies iff the path is empty and root1 == root2; size1 == 0 (no proof
    exists: compare root1 with empty_root() instead) and size1 > size2 never
    verify. Like an inclusion proof, a consistency proof does not bind the
    sizes: take them from signed checkpoints."""
    path = list(path)
    if not _hashes_ok(root1, root2, *path) or size1 < 0 or size2 < 0:
        return False
    if size1 == 0 or size1 > size2:
        return False
    if size1 == size2:
        return len(path) == 0 and bytes(root1) == bytes(root2)
    if not path:                                              # step 1
        return False
    if size1 & (size1 - 1) == 0:                              # step 2
        path = [bytes(root1)] + path
    fn, sn = size1 - 1, size2 - 1                             # step 3
    while fn & 1:                                             # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = bytes(path[0])                                  # step 5
    for c in path[1:]:                                        # step 6
        if sn == 0:                                           # 6a
            return False
        if fn & 1 or fn == sn:                                # 6b
            fr = merkle_node_hash(c, fr)
            sr = merkle_node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = merkle_node_hash(sr, c)
        fn >>= 1                                              # 6c
        sn >>= 1
    return fr == bytes(root1) and sr == bytes(root2) and sn == 0   # step 7


# =====================================================================
# state tree (docs/PROOFS.md section 2, src/state/smt.h)
# =====================================================================

SMT_PRESENT, SMT_ABSENT_EMPTY, SMT_ABSENT_LEAF = 0, 1, 2
SMT_MAX_DEPTH = 64
_Z = bytes(32)


def tagged_hash(tag, data):
    """PEL's tagged BLAKE2b-256: BLAKE2b-256(u8 len(tag) ‖ tag ‖ data)."""
    t = tag.encode("ascii")
    return hashlib.blake2b(bytes([len(t)]) + t + bytes(data), digest_size=32).digest()


def smt_path(key):
    """path(key) = H("PEL/state-path", key) for a 32-byte state key."""
    return tagged_hash("PEL/state-path", key)


def smt_value_hash(value):
    return tagged_hash("PEL/state-value", value)


def smt_leaf_hash(path, value_hash):
    return tagged_hash("PEL/state-leaf", bytes(path) + bytes(value_hash))


def smt_pair(left, right):
    """Z if both are Z, else H("PEL/state-node", left ‖ right)."""
    if left == _Z and right == _Z:
        return _Z
    return tagged_hash("PEL/state-node", left + right)


def _nibble(path, d):
    return path[d // 2] >> 4 if d % 2 == 0 else path[d // 2] & 15


class StateProof:
    """A decoded state-tree proof: kind (SMT_*), depth, per level the mask
    and the four sibling hashes (Z where the mask bit is clear), and for
    SMT_ABSENT_LEAF the other leaf's path and value hash."""

    __slots__ = ("kind", "depth", "masks", "sibs", "leaf_path", "leaf_value_hash")

    def __init__(self, kind, depth, masks, sibs, leaf_path=_Z, leaf_value_hash=_Z):
        self.kind, self.depth, self.masks, self.sibs = kind, depth, masks, sibs
        self.leaf_path, self.leaf_value_hash = leaf_path, leaf_value_hash


def decode_state_proof(data):
    """Decode the canonical encoding of smt.h strictly: u8 kind (0..2), u8
    depth (0..64), per level u8 mask (0..15) and the non-Z siblings its bits
    name (j = 0 first), the last level's mask non-zero, then Q and vh for
    kind 2, nothing after. Raises VerifyError with the code of PEL's
    pel_smt_proof_decode for the first fault in that order: PEL_ETRUNC
    (input ends early), PEL_ENONCANON (a value out of range, a Z sibling, a
    last level with mask 0), PEL_ETRAILING (bytes left over)."""
    b = bytes(data)
    pos = [0]

    def take(n):
        if len(b) - pos[0] < n:
            raise VerifyError("PEL_ETRUNC", "state proof ends at byte %d" % len(b))
        pos[0] += n
        return b[pos[0] - n:pos[0]]

    kind, depth = take(1)[0], take(1)[0]
    if kind > SMT_ABSENT_LEAF or depth > SMT_MAX_DEPTH:
        raise VerifyError("PEL_ENONCANON", "state proof kind %d or depth %d out of range"
                          % (kind, depth))
    masks, sibs = [], []
    for i in range(depth):
        m = take(1)[0]
        if m > 15:
            raise VerifyError("PEL_ENONCANON", "level %d: mask %d over 15" % (i, m))
        level = []
        for j in range(4):
            h = _Z
            if m >> j & 1:
                h = take(32)
                if h == _Z:
                    raise VerifyError("PEL_ENONCANON", "level %d: sibling %d is Z under a "
                                      "set mask bit" % (i, j))
            level.append(h)
        masks.append(m)
        sibs.append(level)
    if depth and masks[-1] == 0:
        raise VerifyError("PEL_ENONCANON", "the last level's mask is 0")
    q = vh = _Z
    if kind == SMT_ABSENT_LEAF:
        q, vh = take(32), take(32)
    if pos[0] != len(b):
        raise VerifyError("PEL_ETRAILING", "%d bytes after the state proof" % (len(b) - pos[0]))
    return StateProof(kind, depth, masks, sibs, q, vh)


def state_proof_root(key, value, proof):
    """The root the proof leads to for the claim "key has value" (value:
    bytes) or "key is absent" (value None), or None where the claim does
    not fit the proof (kind, or an ABSENT_LEAF leaf off the key's path or
    the key's own). The proof holds iff this equals the tree's root."""
    path = smt_path(key)
    if value is not None:
        if proof.kind != SMT_PRESENT:
            return None
        h = smt_leaf_hash(path, smt_value_hash(value))
    elif proof.kind == SMT_ABSENT_EMPTY:
        h = _Z
    elif proof.kind == SMT_ABSENT_LEAF:
        if proof.leaf_path == path or any(_nibble(proof.leaf_path, d) != _nibble(path, d)
                                          for d in range(proof.depth)):
            return None
        h = smt_leaf_hash(proof.leaf_path, proof.leaf_value_hash)
    else:
        return None
    for i in range(proof.depth - 1, -1, -1):
        n = _nibble(path, i)
        for j in range(4):
            s = proof.sibs[i][j]
            h = smt_pair(s, h) if n >> j & 1 else smt_pair(h, s)
    return h


def verify_state(root, key, value, proof):
    """True iff proof (a StateProof) shows `key` has `value` (None: no
    value) in the state tree with root `root`."""
    return state_proof_root(key, value, proof) == bytes(root)


# =====================================================================
# proof files (docs/PROOFS.md section 4)
# =====================================================================

PROOF_TEXT_MAX = 8 << 20
PROOF_MEMBERS_MAX = 16
PROOF_JSON_DEPTH_MAX = 32
HISTORY_MAX_PATH = 65
_U32_MAX = (1 << 32) - 1

# Each type's members in canonical order.
PROOF_MEMBERS = {
    "tx": ("pel_proof", "type", "checkpoint", "height", "index", "leaf_index", "tx",
           "receipt", "inclusion"),
    "state": ("pel_proof", "type", "checkpoint", "key", "value", "state_proof"),
    "consistency": ("pel_proof", "type", "checkpoint", "old_checkpoint", "consistency"),
}
_KNOWN = frozenset(m for ms in PROOF_MEMBERS.values() for m in ms)
_HEX = frozenset("0123456789abcdef")


def _fmt_err(msg):
    return VerifyError("PEL_EPROOF_FORMAT", msg)


class _Pairs(list):
    """A JSON object, as the list of its (name, value) pairs."""


def _no_constant(name):
    raise ValueError("%s is not JSON" % name)


def _json_checked(v, depth):
    """Raise unless every string is UTF-8-encodable (no lone surrogate
    from a \\u escape) and containers nest at most PROOF_JSON_DEPTH_MAX
    deep (the top-level object is depth 1), as PEL's reader requires."""
    if isinstance(v, str):
        v.encode("utf-8")                    # UnicodeEncodeError: a ValueError
    elif isinstance(v, (list, _Pairs)):
        if depth > PROOF_JSON_DEPTH_MAX:
            raise ValueError("nested more than %d deep" % PROOF_JSON_DEPTH_MAX)
        for x in v:
            if isinstance(v, _Pairs):
                _json_checked(x[0], depth + 1)
                _json_checked(x[1], depth + 1)
            else:
                _json_checked(x, depth + 1)


def _load_object(data):
    """The proof file's top-level JSON object as _Pairs, or VerifyError."""
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogatepass")
    if len(data) > PROOF_TEXT_MAX:
        raise _fmt_err("proof file is %d bytes, over the limit of %d" % (len(data), PROOF_TEXT_MAX))
    try:
        text = bytes(data).decode("utf-8")
        obj = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_no_constant,
                         parse_int=lambda s: 0, parse_float=lambda s: 0)
        if not isinstance(obj, _Pairs):
            raise _fmt_err("not a JSON object")
        _json_checked(obj, 1)
    except VerifyError:
        raise
    except (ValueError, RecursionError) as e:  # JSONDecodeError, UnicodeError: ValueError
        raise _fmt_err("not valid JSON (%s)" % (str(e)[:80] or type(e).__name__)) from None
    return obj


def _string(members, name):
    v = members[name]
    if not isinstance(v, str):
        raise _fmt_err('member "%s" must be a JSON string' % name)
    return v


def _decimal_member(members, name, limit):
    s = _string(members, name)
    if (s == "" or len(s) > 20 or any(c not in "0123456789" for c in s)
            or (len(s) > 1 and s[0] == "0") or int(s) > limit):
        raise _fmt_err('member "%s": %r is not canonical decimal from 0 to %d '
                       '(no sign, no leading zero)' % (name, s[:40], limit))
    return int(s)


def _is_hex(s):
    return len(s) % 2 == 0 and all(c in _HEX for c in s)


def _hex_member(members, name):
    s = _string(members, name)
    if not _is_hex(s):
        raise _fmt_err('member "%s" is not lowercase hex of even length' % name)
    return bytes.fromhex(s)


def _hash_text(s):
    return isinstance(s, str) and len(s) == 64 and _is_hex(s)


def _path_member(members, name):
    v = members[name]
    if not isinstance(v, list) or isinstance(v, _Pairs) or not all(isinstance(x, str) for x in v):
        raise _fmt_err('member "%s" must be an array of strings' % name)
    for i, x in enumerate(v):
        if i == HISTORY_MAX_PATH:
            raise _fmt_err('member "%s" has more than %d hashes' % (name, HISTORY_MAX_PATH))
        if not _hash_text(x):
            raise _fmt_err('member "%s": element %d is not 64 lowercase hex digits' % (name, i))
    return [bytes.fromhex(x) for x in v]


def parse_proof(data):
    """Parse a proof file (bytes) strictly, in PEL's order (docs/PROOFS.md
    section 4.3): JSON text of one object (UTF-8, no lone surrogate,
    nesting at most 32, at most 8 MiB), at most 16 members, no name twice,
    "pel_proof" a string equal to "1" (else PEL_EPROOF_VERSION), "type"
    known, exactly the type's members, then each value in canonical member
    order. Returns a dict: "type", "checkpoint" (note bytes) and per type
    "height", "index", "leaf_index", "tx", "receipt", "path" (list of 32-byte
    hashes; the inclusion or consistency proof), "key", "value" (bytes or
    None), "state_proof" (StateProof), "state_proof_bytes",
    "old_checkpoint". Raises VerifyError PEL_EPROOF_FORMAT or
    PEL_EPROOF_VERSION."""
    pairs = _load_object(data)
    if len(pairs) > PROOF_MEMBERS_MAX:
        raise _fmt_err("more than %d members" % PROOF_MEMBERS_MAX)
    members = {}
    for name, v in pairs:
        if name in members:
            raise _fmt_err('duplicate member "%s"' % name[:40])
        members[name] = v
    if "pel_proof" not in members:
        raise _fmt_err('missing member "pel_proof" (not a PEL proof file)')
    version = _string(members, "pel_proof")
    if version != "1":
        raise VerifyError("PEL_EPROOF_VERSION", 'proof file version "%s" is not supported '
                          '(this verifier reads version 1)' % version[:40])
    if "type" not in members:
        raise _fmt_err('missing member "type"')
    ptype = _string(members, "type")
    if ptype not in PROOF_MEMBERS:
        raise _fmt_err('unknown proof type "%s" (tx, state or consistency)' % ptype[:40])
    want = PROOF_MEMBERS[ptype]
    for name, _ in pairs:
        if name not in want:
            raise _fmt_err('unknown member "%s" in a %s proof' % (name[:40], ptype))
    for name in want:
        if name not in members:
            raise _fmt_err('missing member "%s"' % name)
    p = {"type": ptype}
    for name in want[2:]:
        if name in ("checkpoint", "old_checkpoint"):
            p[name] = _string(members, name).encode("utf-8")
        elif name in ("height", "leaf_index"):
            p[name] = _decimal_member(members, name, _UINT64_MAX)
        elif name == "index":
            p[name] = _decimal_member(members, name, _U32_MAX)
        elif name in ("tx", "receipt"):
            p[name] = _hex_member(members, name)
        elif name in ("inclusion", "consistency"):
            p["path"] = _path_member(members, name)
        elif name == "key":
            if not _hash_text(_string(members, name)):
                raise _fmt_err('member "key" is not 64 lowercase hex digits')
            p["key"] = bytes.fromhex(members[name])
        elif name == "value":
            v = members[name]
            if v is not None and not isinstance(v, str):
                raise _fmt_err('member "value" must be a hex string or null')
            p["value"] = None if v is None else _hex_member(members, name)
        elif name == "state_proof":
            raw = _hex_member(members, name)
            try:
                p["state_proof"] = decode_state_proof(raw)
            except VerifyError as e:
                raise _fmt_err('member "state_proof" is not a canonical state-tree proof '
                               'encoding (%s: %s)' % (e.code, e.detail)) from None
            p["state_proof_bytes"] = raw
    return p


def format_proof(p):
    """The canonical text of a parsed proof (parse_proof's dict): members
    in canonical order, two-space indent, one hash per line, final newline
    (json.dumps with indent=2 and ensure_ascii=False writes exactly PEL's
    layout and escapes). Returns str."""
    import collections
    d = collections.OrderedDict()
    for name in PROOF_MEMBERS[p["type"]]:
        if name == "pel_proof":
            d[name] = "1"
        elif name == "type":
            d[name] = p["type"]
        elif name in ("checkpoint", "old_checkpoint"):
            d[name] = bytes(p[name]).decode("utf-8")
        elif name in ("height", "index", "leaf_index"):
            d[name] = str(p[name])
        elif name in ("inclusion", "consistency"):
            d[name] = [h.hex() for h in p["path"]]
        elif name == "value":
            d[name] = None if p["value"] is None else p["value"].hex()
        elif name == "state_proof":
            d[name] = p["state_proof_bytes"].hex()
        else:
            d[name] = p[name].hex()
    return json.dumps(d, indent=2, ensure_ascii=False) + "\n"


# A proof's checkpoints are verified again for every proof against them:
# remember the outcome (a pure function of note and key; bounded).
_CKPT_CACHE = {}


def _open_checkpoint(note, key, which):
    k = (bytes(note), str(key))
    hit = _CKPT_CACHE.get(k)
    if hit is None:
        try:
            hit = verify_checkpoint(note, key)
        except VerifyError as e:
            hit = (e.code, e.detail)
        if len(_CKPT_CACHE) >= 256:
            _CKPT_CACHE.clear()
        _CKPT_CACHE[k] = hit
    if isinstance(hit, tuple):
        raise VerifyError(hit[0], "%s: %s" % (which, _CKPT_FAULT.get(hit[0], hit[1])))
    return dict(hit)


_CKPT_FAULT = {
    "PEL_ENOTE": "not a well-formed signed note",
    "PEL_ENOTE_UNVERIFIED": "not signed by the key",
    "PEL_ENOTE_BADSIG": "signature does not verify with the key",
    "PEL_ENOTE_TOOMANY": "more signature lines than the limit of 100",
    "PEL_ECKPT": "signed text is not a checkpoint (lines)",
    "PEL_ECKPT_ORIGIN": "origin is invalid or not the key's name",
    "PEL_ECKPT_NUM": "a number in the checkpoint is not canonical decimal",
    "PEL_ECKPT_HASH": "a hash in the checkpoint is badly encoded",
    "PEL_ECKPT_EXT": "an extension line (height, state-root, timestamp-ms) is missing or wrong",
}


def _epf(msg):
    return VerifyError("PEL_EPROOF", msg)


def _verify_tx(p, key, res):
    ck = res["checkpoint"] = _open_checkpoint(p["checkpoint"], key, "checkpoint")
    if p["height"] > ck["height"]:
        raise _epf("height %d is above the checkpoint's height %d" % (p["height"], ck["height"]))
    if p["leaf_index"] >= ck["size"]:
        raise _epf("leaf_index %d is not below the checkpoint's tree size %d"
                   % (p["leaf_index"], ck["size"]))
    res["txid"] = tagged_hash("PEL/txid", p["tx"])
    res["receipt_digest"] = tagged_hash("PEL/receipt", p["receipt"])
    res["leaf_hash"] = history_leaf_hash(p["height"], p["index"], res["txid"],
                                         res["receipt_digest"])
    if not verify_inclusion(res["leaf_hash"], p["leaf_index"], ck["size"], p["path"], ck["root"]):
        raise _epf("inclusion proof does not lead to the checkpoint's root (leaf %d of %d, "
                   "%d hashes)" % (p["leaf_index"], ck["size"], len(p["path"])))


def _verify_state(p, key, res):
    ck = res["checkpoint"] = _open_checkpoint(p["checkpoint"], key, "checkpoint")
    sp = p["state_proof"]
    if p["value"] is not None and sp.kind != SMT_PRESENT:
        raise _epf("the state proof shows the key absent, but the file gives it a value")
    if p["value"] is None and sp.kind == SMT_PRESENT:
        raise _epf("the state proof shows the key present, but the file says it has no value")
    root = state_proof_root(p["key"], p["value"], sp)
    if root is None:
        raise _epf("the state proof's other leaf is not on the key's path (or is the key's own)")
    if root != ck["state_root"]:
        raise _epf("state proof does not lead to the checkpoint's state root")


def _verify_consistency(p, key, res):
    n = res["checkpoint"] = _open_checkpoint(p["checkpoint"], key, "checkpoint")
    o = res["old_checkpoint"] = _open_checkpoint(p["old_checkpoint"], key, "old checkpoint")
    if o["origin"] != n["origin"]:
        raise _epf("the checkpoints have different origins")
    if o["height"] > n["height"]:
        raise _epf("old checkpoint's height %d is above the new one's %d" % (o["height"], n["height"]))
    if o["size"] > n["size"]:
        raise _epf("old checkpoint's tree size %d is above the new one's %d" % (o["size"], n["size"]))
    if o["height"] == n["height"] and any(o[f] != n[f] for f in ("size", "root", "state_root", "timestamp_ms")):
        raise _epf("two different checkpoints for height %d, both signed by the key: the signer "
                   "equivocated" % n["height"])
    path = p["path"]
    if o["size"] > 0:
        if not verify_consistency(o["size"], n["size"], o["root"], n["root"], path):
            raise _epf("consistency proof does not lead from the old checkpoint's root to the "
                       "new one's (sizes %d and %d, %d hashes)" % (o["size"], n["size"], len(path)))
        return
    if path:
        raise _epf("a consistency proof from tree size 0 must be empty (it has %d hashes)"
                   % len(path))
    if o["root"] != empty_root():
        raise _epf("old checkpoint has tree size 0 but its root is not the empty tree's")
    if n["size"] == 0 and n["root"] != empty_root():
        raise _epf("checkpoint has tree size 0 but its root is not the empty tree's")


def verify_proof(proof, key):
    """Verify a proof file: proof is the file's bytes or parse_proof's
    dict, key a Verifier or verifier key string. Returns a dict with
    "proof" (the parsed dict), "checkpoint" (verify_checkpoint's dict; for
    consistency the new one), "old_checkpoint", "txid", "receipt_digest",
    "leaf_hash" (tx), "key" (the Verifier) and "description" (the line PEL's
    pel_proof_describe writes). Raises VerifyError with PEL's code for the
    first fault in PEL's order (docs/PROOFS.md section 4.4)."""
    k = _as_verifier(key)
    p = proof if isinstance(proof, dict) else parse_proof(proof)
    res = {"proof": p, "key": k}
    {"tx": _verify_tx, "state": _verify_state,
     "consistency": _verify_consistency}[p["type"]](p, k, res)
    res["description"] = describe_proof(res)
    return res


def describe_proof(res):
    """What a verified proof proves, one line, exactly as PEL's
    pel_proof_describe writes it."""
    p, ck, k = res["proof"], res["checkpoint"], res["key"]
    signer = "signed by %s+%s" % (k.name, k.key_id.hex())
    if p["type"] == "tx":
        return ("transaction %s is leaf %d of the ledger of %d transactions %s at height %d "
                "(block %d, position %d); receipt digest %s\n"
                % (res["txid"].hex(), p["leaf_index"], ck["size"], signer, ck["height"],
                   p["height"], p["index"], res["receipt_digest"].hex()))
    if p["type"] == "state":
        v = p["value"]
        what = ("has no value" if v is None else "has the empty value (0 bytes)" if not v
                else "has value %s (%d bytes)" % (v.hex(), len(v)))
        return ("state key %s %s after block %d, state root %s, %s\n"
                % (p["key"].hex(), what, ck["height"], ck["state_root"].hex(), signer))
    o = res["old_checkpoint"]
    return ("the ledger of %d transactions at height %d extends the ledger of %d "
            "transactions at height %d, %s\n" % (ck["size"], ck["height"], o["size"],
                                                 o["height"], signer))


# =====================================================================
# command line
# =====================================================================

def _utc(ms):
    import datetime
    try:
        t = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return ""
    return " (%s.%03dZ)" % (t.strftime("%Y-%m-%dT%H:%M:%S"), ms % 1000)


def _cmd_checkpoint(args, out, err):
    try:
        with open(args.note, "rb") as f:
            note = f.read()
    except OSError as e:
        print("pelverify: cannot read %s: %s" % (args.note, e.strerror), file=err)
        return 1
    try:
        key = parse_verifier_key(args.key)
    except VerifyError as e:
        print("FAIL verifier key: %s (%s)" % (e.detail, e.code), file=out)
        return 1
    try:
        ck = verify_checkpoint(note, key)
    except VerifyError as e:
        print("FAIL %s: %s (%s)" % (args.note, e.detail, e.code), file=out)
        if b"\r\n" in note:
            print("hint: the file has CRLF line ends; signed notes use LF only", file=out)
        return 1
    print("OK checkpoint signed by %s" % ck["key"], file=out)
    print("origin        %s" % ck["origin"], file=out)
    print("tree size     %d" % ck["size"], file=out)
    print("tree root     %s (hex %s)" % (base64.b64encode(ck["root"]).decode(),
                                         ck["root"].hex()), file=out)
    print("height        %d" % ck["height"], file=out)
    print("state root    %s" % ck["state_root"].hex(), file=out)
    print("timestamp-ms  %d%s" % (ck["timestamp_ms"], _utc(ck["timestamp_ms"])), file=out)
    if not ck["origin"].endswith("/pel"):
        print("note: origin does not end in \"/pel\" (PEL names origins "
              "<chain-id>/pel)", file=out)
    return 0



# =====================================================================
# prior-art bundles (docs/PROOFS.md section 6): a transaction proof whose
# transaction registers a research object, checked against a file
# =====================================================================

_KINDS = ("hypothesis", "protocol", "dataset", "code", "analysis", "preprint", "article",
          "review", "software", "other")


class _Cur:
    """The canonical codec's reader: little-endian integers, u32-prefixed
    byte strings; raises VerifyError(PEL_ETRUNC) past the end."""

    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, n):
        if n > len(self.b) - self.p:
            raise VerifyError("PEL_ETRUNC", "input ends before the value does")
        v = self.b[self.p:self.p + n]
        self.p += n
        return v

    def u(self, n):
        return int.from_bytes(self.take(n), "little")

    def bytes_(self):
        return self.take(self.u(4))


def address_text(raw20):
    """pel1 + 40 hex + 8 hex of checksum (ledger/tx.h)."""
    return "pel1" + raw20.hex() + tagged_hash("PEL/addr-check", raw20)[:4].hex()


def decode_tx(raw):
    """The fields of a signed transaction that a bundle needs (ledger/tx.h)."""
    c = _Cur(raw)
    c.bytes_()                                   # chain id
    sender = c.take(32)
    nonce = c.u(8)
    c.u(8); c.u(8); c.u(8)                       # gas limit, gas price, expiry
    ttype = c.u(2)
    body = c.bytes_()
    if c.u(1) == 1:
        for _ in range(3):
            c.take(32 * c.u(4))
    c.take(64)
    if c.p != len(raw):
        raise VerifyError("PEL_ETRAILING", "bytes after the transaction")
    return {"from": tagged_hash("PEL/addr", sender)[:20], "nonce": nonce, "type": ttype, "body": body}


def decode_object_fields(body):
    """kind, title and digests of a registry body's fields (modules/registry.h)."""
    c = _Cur(body)
    kind = c.u(1)
    title = c.bytes_()
    digests = [c.take(32) for _ in range(c.u(4))]
    return {"kind": kind, "title": title, "digests": digests}


def decode_receipt(raw):
    c = _Cur(raw)
    status = c.u(4)
    gas = c.u(8)
    ev = _Cur(c.bytes_())
    events = []
    while ev.p < len(ev.b):
        events.append(ev.bytes_())
    if c.p != len(raw):
        raise VerifyError("PEL_ETRAILING", "bytes after the receipt")
    return {"status": status - (1 << 32) if status >= 1 << 31 else status, "gas": gas, "events": events}


def check_prior_art(res, digest, name):
    """After verify_proof(res): what the bundle proves about a file whose
    SHA-256 is digest (shown as name). The line PEL's `pel verify --file`
    prints. Raises VerifyError as PEL's pel_priorart_check does."""
    p = res["proof"]
    if p["type"] != "tx":
        raise VerifyError("PEL_EINVAL", "not a transaction proof (a prior-art bundle is one)")
    tx = decode_tx(p["tx"])
    if tx["type"] not in (16, 17):
        raise VerifyError("PEL_EINVAL", "the proven transaction (type %d) does not register a "
                          "research object" % tx["type"])
    f = decode_object_fields(tx["body"][16:] if tx["type"] == 17 else tx["body"])
    rc = decode_receipt(p["receipt"])
    if rc["status"] != 0:
        raise VerifyError("PEL_EPROOF", "the registration failed (receipt status %d): it "
                          "registered nothing" % rc["status"])
    ev = [e for e in rc["events"] if len(e) == 23 and e[0] == 2]
    if not ev:
        raise VerifyError("PEL_EPROOF", "the receipt has no object event")
    oid, version = ev[0][1:17], int.from_bytes(ev[0][17:21], "little")
    mask = int.from_bytes(ev[0][21:23], "little")
    if digest not in f["digests"]:
        raise VerifyError("PEL_ENOTFOUND", "the file's SHA-256 is not among the object's %d "
                          "content digests" % len(f["digests"]))
    i = f["digests"].index(digest)
    t = res["checkpoint"]["timestamp_ms"]
    import time as _time
    when = _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(t // 1000))
    return ('file %s (sha256 %s) is content digest %d of pel:obj:%s@v%d (%s, "%s"), registered '
            "by %s in block %d, no later than %s (%d ms); %s\n"
            % (name, digest.hex(), i, oid.hex(), version,
               _KINDS[f["kind"]] if f["kind"] < len(_KINDS) else "?",
               f["title"].decode("utf-8", "replace"), address_text(tx["from"]), p["height"], when, t,
               "the first registration of this content on the chain" if (mask >> i) & 1
               else "NOT the first registration of this content on the chain"))

def _cmd_verify(args, out, err):
    try:
        with open(args.file, "rb") as f:
            data = f.read()
    except OSError as e:
        code = "PEL_ENOTFOUND" if isinstance(e, FileNotFoundError) else "PEL_EIO"
        print("FAILED: cannot read %s: %s (%s)" % (args.file, e.strerror, code), file=out)
        return 1
    try:
        key = parse_verifier_key(args.key)
    except VerifyError as e:
        print("FAILED: verifier key: %s (%s)" % (e.detail, e.code), file=out)
        return 1
    try:
        res = verify_proof(data, key)
    except VerifyError as e:
        print("FAILED: %s (%s)" % (e.detail, e.code), file=out)
        if b"\r\n" in data:
            print("hint: the file has CRLF line ends; the notes inside must keep their "
                  "\\n line ends", file=out)
        return 1
    line = ""
    if getattr(args, "original", None):
        try:
            with open(args.original, "rb") as f:
                digest = hashlib.sha256(f.read()).digest()
            line = check_prior_art(res, digest, args.original)
        except OSError as e:
            print("FAILED: cannot read %s: %s (PEL_EIO)" % (args.original, e.strerror), file=out)
            return 1
        except VerifyError as e:
            print("FAILED: %s (%s)" % (e.detail, e.code), file=out)
            return 1
    out.write(res["description"] + line)
    for which in ("old_checkpoint", "checkpoint"):
        ck = res.get(which)
        if ck:
            print("%-15s tree size %d, root %s, height %d, state root %s, timestamp-ms %d%s"
                  % (which.replace("_", " ") + ":", ck["size"], ck["root"].hex(), ck["height"],
                     ck["state_root"].hex(), ck["timestamp_ms"], _utc(ck["timestamp_ms"])),
                  file=out)
    print("key:            %s" % res["key"], file=out)
    return 0


def main(argv=None, out=None, err=None):
    import argparse
    out = out or sys.stdout
    err = err or sys.stderr
    ap = argparse.ArgumentParser(
        prog="pelverify",
        description="Independent offline verifier of PEL checkpoints and proofs.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("checkpoint", help="verify a signed checkpoint note")
    c.add_argument("note", metavar="NOTE_FILE")
    c.add_argument("--key", required=True, metavar="VERIFIER_KEY",
                   help="the node's verifier key, <name>+<id>+<base64>")
    v = sub.add_parser("verify", help="verify a PEL proof file (docs/PROOFS.md section 4)")
    v.add_argument("file", metavar="PROOF_FILE")
    v.add_argument("--file", dest="original", metavar="ORIGINAL",
                   help="a prior-art bundle: also check this file's registration")
    v.add_argument("--key", required=True, metavar="VERIFIER_KEY",
                   help="the node's verifier key, <name>+<id>+<base64>")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    if args.cmd == "checkpoint":
        return _cmd_checkpoint(args, out, err)
    return _cmd_verify(args, out, err)


if __name__ == "__main__":
    sys.exit(main())
