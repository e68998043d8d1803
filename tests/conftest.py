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
SIMULATED_END = "2026-03-21"  # the last day of the simulated_call_center fixture


def pytest_collection_modifyitems(items):
    """Every test that starts Spark carries the ``spark`` mark (``make test-fast`` leaves them out), declared or not."""
    for item in items:
        if "spark_con" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session", autouse=True)
def fixed_phone_key():
    """A fixed key for phone fingerprints, so that tests never create one in the user's ~/.config."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEGKIT_PHONE_KEY", "segkit tests: not a secret")
        yield os.environ["SEGKIT_PHONE_KEY"].encode()


@pytest.fixture
def postgres_url():
    """A URL to a fresh, empty schema of the test PostgreSQL server (``$SEGKIT_TEST_POSTGRES_URL``), dropped
    afterwards: tests running at once do not share tables. Skipped without a server, failed under CI."""
    url = os.environ.get("SEGKIT_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must provide PostgreSQL: .ci/run starts it and sets SEGKIT_TEST_POSTGRES_URL")
        pytest.skip("no PostgreSQL server (set SEGKIT_TEST_POSTGRES_URL; .ci/run does)")
    import uuid

    import sqlalchemy as sa

    schema = f"segkit_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    with engine.begin() as con:
        con.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


@pytest.fixture(scope="session")
def gas_world():
    return generate("gas", 600, seed=11, as_of=AS_OF)


@pytest.fixture(scope="session")
def supplements_world():
    return generate("supplements", 800, seed=12, as_of=AS_OF)


@pytest.fixture(scope="session")
def simulated_call_center(tmp_path_factory) -> Path:
    """A folder holding a small closed loop's ``ledger.sqlite`` and ``transactions.csv`` (``segkit simulate``: 30
    days of the 30-day rule's call lists on 600 gas households, a fifth held out, to ``SIMULATED_END``) with the
    agents' reports in the ledger: the 10-day windows of control members have ended in February and March."""
    from segkit.synth.loop import simulate

    folder = tmp_path_factory.mktemp("simulated_call_center")
    simulate(
        folder, 600, days=30, start="2026-02-20", seed=5, policy="overdue-30", control_share=0.2, window_days=10
    )  # the agents report each day's calls into the ledger as the loop runs
    return folder


def require_chromium() -> None:
    """Skip the calling test without Chromium (headless browser checks); fail it under CI, which provides one."""
    from segkit.jobs.browser import find_chromium

    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide Chromium: .ci/run installs Debian's chromium")
        pytest.skip("no Chromium (apt-get install chromium)")


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
    from segkit.engine import connect

    con = connect("spark")
    yield con
    con._session.stop()
