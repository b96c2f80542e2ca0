"""Password encryption of a backup file: scrypt + AES-256-GCM in chunks (the STREAM construction).

Layout::

    MAGIC (21 bytes) | header length (4, big-endian) | header (JSON) | chunk | chunk | ...

The header holds the scrypt salt and cost, the nonce prefix and the chunk size, plus a check value
derived from the password (so a wrong password is told apart from a damaged file). Each chunk is
``CHUNK`` plaintext bytes (the last may be shorter, even empty) sealed with AES-256-GCM: the nonce
is the 7-byte random prefix, a 4-byte chunk counter and a last-chunk flag byte, and the associated
data is the whole header plus that flag. A reordered, dropped, repeated or cut-off chunk, or an
edited header, fails authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from greenroom.errors import GreenroomError

MAGIC = b"GREENROOM-BACKUP-ENC\x01"
CHUNK = 1 << 16
TAG = 16
SCRYPT_N = 1 << 15
SCRYPT_R = 8
SCRYPT_P = 1
_MAX_HEADER = 4096


class BackupCryptoError(GreenroomError):
    """A wrong password or a damaged encrypted file."""


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, bytes]:
    if not password:
        raise BackupCryptoError("the backup password is empty")
    material = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(password.encode("utf-8"))
    return material[:32], material[32:]


def _check_value(verify_key: bytes) -> str:
    return hmac.new(verify_key, b"greenroom-backup-password-check", hashlib.sha256).hexdigest()


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only binary file object that encrypts into ``sink`` (anything with ``write``)."""

    def __init__(self, sink: Any, password: str) -> None:
        self._sink = sink
        salt, self._prefix = os.urandom(16), os.urandom(7)
        key, verify = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        self._aead = AESGCM(key)
        header = json.dumps({"kdf": "scrypt", "salt": salt.hex(), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                             "cipher": "aes-256-gcm-stream", "nonce_prefix": self._prefix.hex(),
                             "chunk": CHUNK, "check": _check_value(verify)}, sort_keys=True).encode()
        self._header = header
        self._buffer = bytearray()
        self._counter = 0
        self._closed = False
        sink.write(MAGIC + struct.pack(">I", len(header)) + header)

    def _seal(self, data: bytes, last: bool) -> None:
        if self._counter >= 0xFFFFFFFF:
            raise BackupCryptoError("backup too large for one encrypted stream")
        aad = self._header + (b"\x01" if last else b"\x00")
        self._sink.write(self._aead.encrypt(_nonce(self._prefix, self._counter, last), data, aad))
        self._counter += 1

    def write(self, data: bytes) -> int:
        self._buffer += data
        # Keep at least one byte back: the last chunk must be sealed as last, on close.
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def flush(self) -> None:
        """Nothing to do: whole chunks are written as soon as they are complete."""

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()


def _read_exact(source: BinaryIO, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        piece = source.read(size - len(out))
        if not piece:
            break
        out += piece
    return bytes(out)


class DecryptingReader:
    """A read-only binary file object over an encrypted backup (``source`` is positioned after MAGIC)."""

    def __init__(self, source: BinaryIO, password: str) -> None:
        self._source = source
        raw_len = _read_exact(source, 4)
        if len(raw_len) != 4:
            raise BackupCryptoError("the encrypted backup is cut off in its header")
        (length,) = struct.unpack(">I", raw_len)
        if not 0 < length <= _MAX_HEADER:
            raise BackupCryptoError("the encrypted backup has a damaged header")
        header = _read_exact(source, length)
        try:
            params = json.loads(header)
            salt = bytes.fromhex(params["salt"])
            self._prefix = bytes.fromhex(params["nonce_prefix"])
            n, r, p, self._chunk = int(params["n"]), int(params["r"]), int(params["p"]), int(params["chunk"])
            check = str(params["check"])
        except (ValueError, KeyError, TypeError):
            raise BackupCryptoError("the encrypted backup has a damaged header") from None
        if (params.get("kdf") != "scrypt" or len(self._prefix) != 7 or not 1 <= self._chunk <= 1 << 24
                or not (1 << 10) <= n <= (1 << 20) or not 1 <= r <= 32 or not 1 <= p <= 16):
            raise BackupCryptoError("the encrypted backup has an unsupported or damaged header")
        key, verify = _derive(password, salt, n, r, p)
        if not hmac.compare_digest(_check_value(verify), check):
            raise BackupCryptoError("wrong password for this backup")
        self._aead = AESGCM(key)
        self._header = header
        self._counter = 0
        self._pending = _read_exact(source, self._chunk + TAG)
        self._plain = bytearray()
        self._done = False

    def _next_chunk(self) -> None:
        sealed = self._pending
        if len(sealed) < TAG:
            raise BackupCryptoError("the encrypted backup is cut off (truncated file)")
        following = _read_exact(self._source, self._chunk + TAG) if len(sealed) == self._chunk + TAG else b""
        last = not following
        aad = self._header + (b"\x01" if last else b"\x00")
        try:
            plain = self._aead.decrypt(_nonce(self._prefix, self._counter, last), sealed, aad)
        except InvalidTag:
            raise BackupCryptoError("the encrypted backup is damaged, truncated or was changed") from None
        self._counter += 1
        self._plain += plain
        self._pending = following
        self._done = last

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._plain) < size):
            self._next_chunk()
        if size < 0:
            size = len(self._plain)
        out = bytes(self._plain[:size])
        del self._plain[:size]
        return out
