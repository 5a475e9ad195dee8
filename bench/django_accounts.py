#!/usr/bin/env python3
"""Make a Django-shaped account database of N accounts, for timing
`gatehouse import django` at scale.

    python3 bench/django_accounts.py OUT_DIR [--count 100000]

Writes OUT_DIR/auth.sqlite3 (Django's auth_user table, with the column types
Django's SQLite backend creates) and OUT_DIR/dumpdata.json (the same rows as
`manage.py dumpdata auth.user` writes them). No password is hashed: importing
copies hashes verbatim, so every row gets a well-formed pbkdf2_sha256 hash of
a random key, as a Django 5.2 site stores them. Every 1,000th account has a
blank email and every 50th is inactive, as years of a real site leave behind.
"""
import argparse
import base64
import json
import os
import random
import sqlite3
from datetime import datetime, timedelta, timezone


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--count", type=int, default=100_000)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    db_path = os.path.join(args.out_dir, "auth.sqlite3")
    if os.path.exists(db_path):
        os.remove(db_path)
    rng = random.Random(7)
    base = datetime(2015, 1, 1, tzinfo=timezone.utc)
    db = sqlite3.connect(db_path)
    db.execute(
        'CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
        '"password" varchar(128) NOT NULL, "last_login" datetime NULL, '
        '"is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, '
        '"last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, '
        '"is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, '
        '"first_name" varchar(150) NOT NULL)'
    )
    with open(os.path.join(args.out_dir, "dumpdata.json"), "w") as out:
        out.write("[\n")
        rows = []
        for i in range(1, args.count + 1):
            salt = base64.b64encode(rng.randbytes(16)).decode()[:22]
            key = base64.b64encode(rng.randbytes(32)).decode()
            password = f"pbkdf2_sha256$1000000${salt}${key}"
            joined = base + timedelta(seconds=rng.randrange(0, 300_000_000))
            last = joined + timedelta(days=rng.randrange(0, 400)) if rng.random() < 0.7 else None
            email = "" if i % 1000 == 0 else f"member{i}@example.org"
            active = i % 50 != 0
            username = f"member{i:07d}"
            rows.append((i, password, last.strftime("%Y-%m-%d %H:%M:%S.%f") if last else None,
                         False, username, "", email, False, active,
                         joined.strftime("%Y-%m-%d %H:%M:%S.%f"), ""))
            record = {"model": "auth.user", "pk": i, "fields": {
                "password": password,
                "last_login": last.isoformat().replace("+00:00", "Z") if last else None,
                "is_superuser": False, "username": username, "first_name": "", "last_name": "",
                "email": email, "is_staff": False, "is_active": active,
                "date_joined": joined.isoformat().replace("+00:00", "Z"),
                "groups": [], "user_permissions": []}}
            out.write(("," if i > 1 else "") + json.dumps(record) + "\n")
            if len(rows) == 10_000:
                db.executemany("INSERT INTO auth_user VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
                rows = []
        db.executemany("INSERT INTO auth_user VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        out.write("]\n")
    db.commit()
    db.close()
    print(f"{args.count} accounts -> {args.out_dir}")


if __name__ == "__main__":
    main()
