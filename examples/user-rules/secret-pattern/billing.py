"""No KeyPort here at all: a user rule sees every file its pattern can match."""
import os

ACME_KEY = "acme_sk_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"  # expect: ACME001
ACME_FROM_ENV = os.environ["ACME_KEY"]
ACME_PLACEHOLDER = "acme_sk_00000000000000000000000000000000"
