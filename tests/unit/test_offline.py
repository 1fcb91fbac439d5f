"""The course works with the network cut.

`make test` runs tests/unit with pytest-socket's `--disable-socket --allow-unix-socket`: any attempt
to open an internet socket raises. The first test proves the guard is active; the others load the
offline model and dataset under it, so passing them proves no socket was needed.
"""

import socket

import numpy as np
import pytest

from translearn_lib import config


def _guard_active() -> bool:
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except Exception as err:  # pytest_socket.SocketBlockedError
        return type(err).__name__ == "SocketBlockedError"
    s.close()
    return False


def test_socket_guard_is_active(request):
    if not request.config.getoption("--disable-socket", default=False):
        pytest.skip("run with --disable-socket (as `make test` does) to prove the suite is offline")
    assert _guard_active()


def test_offline_mode_is_set_for_tests():
    assert config.is_offline()


def test_movielens_and_bert_load_without_network(tmp_cache):
    from translearn_lib.encoders import text
    from translearn_lib.datasets import load_movielens_100k

    ml = load_movielens_100k()
    assert len(ml.ratings) == 100_000
    vectors = text.load_text_encoder("minilm").encode(["Toy Story (1995)", "Star Wars (1977)"], cache=False)
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
