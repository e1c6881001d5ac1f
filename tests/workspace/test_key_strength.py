"""OMNI_PSEUDONYM_KEY must be at least 32 bytes; the refusal says how to generate one."""

from __future__ import annotations

import hashlib
import hmac
import warnings

import pandas as pd
import pytest

from omni.audience.export import require_key
from omni.privacy import KEY_ENV, MIN_KEY_BYTES, PseudonymKeyError, check_key_length, pseudonymize


@pytest.mark.parametrize("key, n", [
    ("k" * 31, 31),                 # text: 31 bytes
    ("ab" * 31, 31),                # 62 hex digits: 31 bytes
    ("0f" * 16, 16),                # 32 hex digits (secrets.token_hex(16)) read as hex: only 16 bytes
    ("短" * 10, 30),                # 10 CJK characters: 30 bytes of UTF-8
], ids=["text31", "hex31", "hex16", "utf8-30"])
def test_short_env_key_is_refused_with_how_to_generate_one(monkeypatch, key, n):
    monkeypatch.setenv(KEY_ENV, key)
    with pytest.raises(PseudonymKeyError) as err:
        pseudonymize("+8613800138000")
    msg = str(err.value)
    assert f"{KEY_ENV} is {n} bytes" in msg and f"at least {MIN_KEY_BYTES} bytes" in msg
    assert 'secrets.token_hex(32)' in msg and f"export {KEY_ENV}=" in msg  # how to generate one
    assert key not in msg  # never echoes the key
    with pytest.raises(PseudonymKeyError, match="31 bytes|16 bytes|30 bytes"):
        require_key()


_HEX = "5e" * 16 + "a1" * 16  # fixed (xdist workers must collect the same ids), like secrets.token_hex(32)


@pytest.mark.parametrize("key, raw", [
    ("k" * 32, b"k" * 32),                      # text: 32 bytes
    ("ab" * 32, b"\xab" * 32),                  # 64 hex digits: 32 bytes
    (_HEX, bytes.fromhex(_HEX)),                # what the hint's command generates
    ("短" * 11, ("短" * 11).encode("utf-8")),   # 33 bytes of UTF-8
], ids=["text32", "hex32", "token_hex32", "utf8-33"])
def test_32_byte_env_key_is_accepted(monkeypatch, key, raw):
    monkeypatch.setenv(KEY_ENV, key)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = pseudonymize(pd.Series(["+8613800138000", None]))
        kid = require_key()
    assert out[0] == hmac.new(raw, b"+8613800138000", hashlib.sha256).hexdigest()[:16] and pd.isna(out[1])
    assert len(kid) == 8


def test_explicit_export_key_is_held_to_32_bytes_too():
    with pytest.raises(PseudonymKeyError, match="the audience export key is 31 bytes"):
        require_key("z" * 31)
    assert len(require_key("z" * 32)) == 8
    assert check_key_length(b"\x00" * 32) == b"\x00" * 32


def test_empty_env_key_is_refused(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "   ")
    with pytest.raises(PseudonymKeyError, match="is empty"):
        pseudonymize("x")
    with pytest.raises(PseudonymKeyError, match="refuse to run without a pseudonymization key"):
        require_key()
