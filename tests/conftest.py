"""Shared fixtures: small generated worlds, the shared reference data, a local Spark."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from segkit.synth import generate

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SEGKIT_SHARED_DATA", REPO.parent / "shared" / "data"))
AS_OF = "2026-03-31"


@pytest.fixture(scope="session")
def gas_world():
    return generate("gas", 600, seed=11, as_of=AS_OF)


@pytest.fixture(scope="session")
def supplements_world():
    return generate("supplements", 800, seed=12, as_of=AS_OF)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"reference data not found at {SHARED_DATA} (set SEGKIT_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def spark_con():
    pytest.importorskip("pyspark", reason="PySpark not installed (pip install 'segkit[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime: Spark tests need one")
    from segkit.features import connect

    con = connect("spark")
    yield con
    con._session.stop()
