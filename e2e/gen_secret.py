#!/usr/bin/env python3
"""Print one valid keyhouse secret.

Format: "kh_" + 40 random base62 chars + 6 base62 chars encoding the CRC-32
(IEEE, zlib.crc32) of the 43 characters before them ("kh_" + the 40 chars).
Base62 alphabet 0-9A-Za-z, most significant digit first, zero-padded to 6.

Usage:
  gen_secret.py            print a fresh secret
  gen_secret.py --check S  exit 0 if S is a well-formed secret, 1 otherwise
  gen_secret.py --self-test
"""
import secrets
import sys
import zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PREFIX = "kh_"
BODY_LEN = 40
CHECK_LEN = 6


def base62(n: int, width: int) -> str:
    digits = []
    while n:
        n, r = divmod(n, 62)
        digits.append(ALPHABET[r])
    s = "".join(reversed(digits)) or "0"
    if len(s) > width:
        raise ValueError("value too large")
    return s.rjust(width, "0")


def checksum(head: str) -> str:
    return base62(zlib.crc32(head.encode("ascii")) & 0xFFFFFFFF, CHECK_LEN)


def generate() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LEN))
    head = PREFIX + body
    return head + checksum(head)


def is_valid(s: str) -> bool:
    if len(s) != len(PREFIX) + BODY_LEN + CHECK_LEN or not s.startswith(PREFIX):
        return False
    rest = s[len(PREFIX):]
    if any(c not in ALPHABET for c in rest):
        return False
    head = s[: len(PREFIX) + BODY_LEN]
    return s[len(PREFIX) + BODY_LEN:] == checksum(head)


def self_test() -> int:
    assert base62(0, 6) == "000000"
    assert base62(61, 6) == "00000z"
    assert base62(62, 6) == "000010"
    assert base62(0xFFFFFFFF, 6) == "4gfFC3"  # 62^6 > 2^32, so always fits
    for _ in range(1000):
        s = generate()
        assert is_valid(s), s
        # independent recomputation of the check digits
        n = zlib.crc32(s[:43].encode())
        tail = s[43:]
        m = 0
        for c in tail:
            m = m * 62 + ALPHABET.index(c)
        assert m == n, (s, n, m)
        # a single changed body character must break the check
        i = 3 + secrets.randbelow(BODY_LEN)
        c = ALPHABET[(ALPHABET.index(s[i]) + 1) % 62]
        assert not is_valid(s[:i] + c + s[i + 1:])
    assert not is_valid("kh_" + "0" * 46)
    print("gen_secret self-test: 1 passed, 0 failed")
    return 0


def main(argv) -> int:
    if len(argv) >= 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) == 3 and argv[1] == "--check":
        ok = is_valid(argv[2])
        print("valid" if ok else "invalid")
        return 0 if ok else 1
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(generate())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
