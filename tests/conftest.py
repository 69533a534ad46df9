import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import alkit  # noqa: E402


@pytest.fixture(scope="session")
def digits():
    return alkit.load_embeddings("digits")


@pytest.fixture(scope="session")
def small_synthetic():
    return alkit.load_embeddings("synthetic:N=1500,d=32,C=8,seed=0")


@pytest.fixture(autouse=True)
def _alkit_home(tmp_path_factory, monkeypatch):
    """Every test gets its own empty ALKIT_HOME so no cache leaks between tests."""
    monkeypatch.setenv("ALKIT_HOME", str(tmp_path_factory.mktemp("alkit_home")))


@pytest.fixture
def rng():
    return np.random.default_rng(0)
