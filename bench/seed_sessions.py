"""Writes N live sessions of one user straight into a Gatehouse SQLite file
and prints their tokens, one per line, so the logout scenario can spend a
fresh token per request without paying a password hash for each.

Tokens have the server's format: "gat_" + base64url(32 random bytes + CRC-32
of them, big-endian); the row stores the SHA-256 of the token text.

With --ids it prints the sessions' ids instead, for the revokeSession
scenario, which names sessions by id.

usage: python3 seed_sessions.py DB_FILE USER_ID COUNT [--ids] > tokens.txt
"""

import base64
import datetime
import hashlib
import os
import sqlite3
import sys
import uuid
import zlib


def main() -> None:
    db_file, user_id, count = sys.argv[1], uuid.UUID(sys.argv[2]), int(sys.argv[3])
    print_ids = sys.argv[4:] == ["--ids"]
    now = datetime.datetime.now(datetime.timezone.utc)
    created = now.isoformat(timespec="microseconds")
    expires = (now + datetime.timedelta(days=1)).isoformat(timespec="microseconds")
    rows, printed = [], []
    for _ in range(count):
        secret = os.urandom(32)
        checksum = zlib.crc32(secret).to_bytes(4, "big")
        token = "gat_" + base64.urlsafe_b64encode(secret + checksum).decode().rstrip("=")
        session_id = uuid.uuid4()
        printed.append(str(session_id) if print_ids else token)
        digest = hashlib.sha256(token.encode()).digest()
        rows.append((session_id.bytes, user_id.bytes, digest, created, expires))
    with sqlite3.connect(db_file, timeout=30) as db:
        db.executemany(
            "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    sys.stdout.write("\n".join(printed) + "\n")


if __name__ == "__main__":
    main()
