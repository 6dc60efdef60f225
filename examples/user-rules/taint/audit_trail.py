import os

import audit
import vault

ACME_KEY = os.environ["ACME_KEY"]


def on_login(user):
    audit.record("login", user, ACME_KEY)  # expect: ACME010
    audit.record("login", user, ACME_KEY[:8])


def rotate():
    fresh = vault.acme_key()
    audit.record(f"rotated to {fresh}")  # expect: ACME010
    audit.record("rotated", len(fresh))
