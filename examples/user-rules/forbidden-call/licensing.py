import os

import requests
from keyport import KeyPort

KEY = os.environ["KEYPORT_API_KEY"]
client = KeyPort(KEY)  # expect: ACME021
patient = KeyPort(KEY, timeout=5.0)


def validate(license_key):
    return requests.post("https://api.keyport.sbs/api/v1/validate",  # expect: ACME020
                         json={"license_key": license_key},
                         headers={"Authorization": f"Bearer {KEY}"}, verify=False)


def validate_safely(license_key):
    return requests.post("https://api.keyport.sbs/api/v1/validate",
                         json={"license_key": license_key},
                         headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
