/* err.c - names of PEL error codes (see err.h). */
#include "core/err.h"

const char *pel_strerror(int code)
{
    switch (code) {
    case PEL_OK: return "success";
    case PEL_ENOMEM: return "out of memory";
    case PEL_EINVAL: return "invalid argument";
    case PEL_ENOTFOUND: return "not found";
    case PEL_ERANGE: return "value out of range";
    case PEL_EIO: return "I/O error";
    case PEL_EEXIST: return "already exists";
    case PEL_ETRUNC: return "truncated input";
    case PEL_ETRAILING: return "trailing bytes after value";
    case PEL_ETOOLONG: return "length over limit";
    case PEL_ENONCANON: return "non-canonical encoding";
    case PEL_EHEX: return "invalid hex";
    case PEL_EBADSIG: return "bad signature";
    case PEL_EBADKEY: return "bad public key";
    case PEL_ECRYPTO: return "crypto failure";
    case PEL_EBOUND: return "counter bound crossed";
    case PEL_ETYPE: return "wrong value type";
    case PEL_EACCESS: return "undeclared access";
    case PEL_EHALT: return "execution halted";
    case PEL_EGAS: return "out of gas";
    case PEL_EFUNDS: return "insufficient funds";
    case PEL_EABORT: return "transaction aborted";
    default: return "unknown error";
    }
}
