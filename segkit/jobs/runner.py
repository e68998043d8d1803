"""``segkit run``: execute a pipeline's notebooks into ``runs/<job>/<date>/`` with a manifest and HTML reports.

A run is built in a hidden folder beside its final place and renamed into
``runs/<job>/<date>`` only when every step has succeeded, so a date's folder
is always one whole, good run; re-running the date replaces it. A failing
step stops the job: its attempt is kept as ``runs/<job>/<date>.failed``
(the executed notebook shows the error, the manifest says which step and
why), the exit code is non-zero, and the previous good run is untouched.

Steps run with the run folder as their working directory; each writes to its
own ``output_dir`` (``<step>/``), so the paths recorded in the notebooks and
the manifest (relative to the run folder) stay valid after the rename. After
each step, its executed notebook and charts refer to the run folder's one
``plotly.min.js`` instead of holding their own copy (``report.share_plotly``).

Before anything is executed or written, the pipeline's names, inputs and
parameters are checked (no credentials, no path out of the run folder). Every
executed notebook and report must pass the privacy check (``report.check_private``):
one that shows a member's name or phone is removed and the step fails, its
manifest saying why. Hidden folders of crashed runs of the job
(``.DATE.partial-PID`` whose lock is free, ``.DATE.old-PID`` whose process is gone) are removed
by its next run; while one, or a failed attempt, holds a call list the ledger recorded (killed or failed after
its export step), only its own date may run (``_refuse_after_undelivered_calls``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

try:
    import fcntl
except ImportError:  # not on POSIX: a crashed run is told by its process alone
    fcntl = None

from .. import __version__
from ..data.parse import parse_day
from ..messages import catalogue
from ..privacy import mask_urls_in
from ..result import Result
from .parameters import ParameterError
from .pipeline import Pipeline
from .report import (
    MemberData,
    PrivacyError,
    check_private,
    member_data,
    notebook_html,
    notebook_text,
    share_plotly,
)

CHARTS = (".html", ".htm", ".svg")  # files of a step that are looked at, and checked for members' names and phones
RUNNING = ".segkit-running"  # locked by the run building the folder
FAILED = re.compile(r"\d{4}-\d{2}-\d{2}\.failed")
CRASHED = re.compile(r"\.\d{4}-\d{2}-\d{2}(?:\.failed)?\.(?:partial|old)-(\d+)")


class JobFailed(RuntimeError):
    """A step of the job failed; the manifest of the failed attempt says which and why."""


@dataclass(repr=False)
class PipelineRun(Result):
    """A finished run: its folder (``runs/<job>/<date>``) and manifest. The files are in the folder (``files``:
    the manifest's outputs, by their paths relative to it).

    ``summary()`` is one row per step (name, notebook, status, seconds). The files were written as
    the run went, so ``write`` is not needed (and raises ``NotImplementedError``).

    Attributes
    ----------
    folder : pathlib.Path
        The run folder, ``runs/<job>/<date>``.
    manifest : dict
        ``manifest.json``: job, date, pipeline, status, segkit version, git commit, Python,
        start and finish times, inputs (path, bytes, SHA-256, rows), the privacy check,
        every step (parameters, executed notebook, report, status, seconds) and every
        output (path, bytes, SHA-256).
    files : list of pathlib.Path
        Every file of the run (the manifest's outputs), in the run folder.
    """

    folder: Path
    manifest: dict[str, Any]

    def _describe(self) -> str:
        steps = self.manifest["steps"]
        return (
            f"{self.manifest['job']} {self.manifest['date']}: {len(steps)} step(s) in "
            f"{sum(step['seconds'] for step in steps):.1f} s, {len(self.files)} files in {self.folder}"
        )

    def summary(self) -> pd.DataFrame:
        """One row per step: its name, notebook, status and seconds."""
        return pd.DataFrame(
            [
                {
                    "step": step["name"],
                    "notebook": Path(step["notebook"]).name,
                    "status": step["status"],
                    "seconds": step["seconds"],
                }
                for step in self.manifest["steps"]
            ]
        )

    @property
    def files(self) -> list[Path]:
        return [self.folder / name for name in self.manifest["outputs"]]


def run_pipeline(
    pipeline: Pipeline | str | Path,
    date: str,
    runs: str | Path = "runs",
    progress: bool = True,
    inputs: dict[str, str] | None = None,
) -> PipelineRun:
    """Run every step of ``pipeline`` (a ``Pipeline`` or its YAML file, whose ``inputs`` override the file's)
    for ``date``; returns the run (its folder and manifest). Raises ``JobFailed`` (after writing the failed
    attempt's manifest) when a step fails or its report or notebook would show members' names or phones
    (those files are removed), ``ParameterError`` before anything runs or is written when parameters are
    wrong or hold a credential.

    Parameters
    ----------
    pipeline : Pipeline, str or Path
        A checked ``Pipeline`` or its YAML file (``pipelines/README.md`` describes the
        form: job, inputs, steps with their notebooks and parameters).
    date : str
        The run's date, ``YYYY-MM-DD``: the ``{date}`` of the parameters and the name of
        the run folder.
    runs : str or Path, default "runs"
        The folder of all runs; this one goes to ``runs/<job>/<date>``, replacing a
        previous run of the date only once every step has succeeded.
    progress : bool, default True
        Print each step as it starts and ends, and papermill's progress bar.
    inputs : dict of str to str, optional
        Input paths overriding the pipeline file's, by input name (``--input NAME=PATH``;
        only with a YAML path).

    Returns
    -------
    PipelineRun
        The run folder and its manifest.

    Raises
    ------
    JobFailed
        A step failed, or its report or notebook would show members' names or phones
        (those files are removed). The failed attempt is kept as
        ``runs/<job>/<date>.failed`` with a manifest saying which step and why; the
        previous good run is untouched.
    segkit.jobs.parameters.ParameterError
        Before anything runs or is written: the date, the pipeline file, an input or a
        parameter is wrong, or a parameter or input holds a credential.
    FileNotFoundError
        The pipeline file does not exist.

    Examples
    --------
    Executing notebooks takes a few seconds a step, so this example is not run as a test:

    >>> import segkit
    >>> run = segkit.run_pipeline("pipelines/monthly_segmentation.yaml", "2026-03-31")  # doctest: +SKIP
    [1/1] monthly_segmentation 2026-03-31: segmentation (segmentation.ipynb)
          done in 6.1 s
    >>> run.summary()  # doctest: +SKIP
               step          notebook status  seconds
    0  segmentation  segmentation.ipynb     ok     6.1
    """
    import papermill as pm

    if not isinstance(pipeline, Pipeline):
        pipeline = Pipeline.from_yaml(pipeline, inputs)
    try:
        date = str(parse_day(date).date())
    except ValueError as error:
        raise ParameterError(f"date: {error}") from None
    runs = Path(runs).resolve()
    steps = pipeline.resolve(date, runs)
    members = member_data(
        pipeline.inputs, {name: pipeline.inputs[mapping] for name, mapping in pipeline.mappings.items()}
    )
    final = runs / pipeline.job / date
    work = final.parent / f".{date}.partial-{os.getpid()}"
    if final.parent.is_dir():
        _refuse_after_undelivered_calls(final.parent, date)
        _remove_crashed_attempts(final.parent)
    work.mkdir(parents=True)
    running = _Running(work)
    try:
        manifest: dict[str, Any] = {
            "job": pipeline.job,
            "date": date,
            "pipeline": str(pipeline.path),
            "status": "running",
            "segkit_version": __version__,
            "git_commit": _git_commit(),
            "python": sys.version.split()[0],
            "started": _now(),
            "inputs": {name: _describe(path) for name, path in pipeline.inputs.items()},
            "privacy_check": {
                "reads": members.checked,
                "refuses": "these inputs' member names and phone numbers, and any unmasked mobile number",
            },
            "steps": [],
        }
        texts = catalogue(pipeline.language)
        labels = texts.section("report.header")
        header = {
            labels["job"]: pipeline.job,
            labels["date"]: date,
            labels["inputs"]: "; ".join(
                texts.text("report.input_rows", name=name, rows=info["rows"]) if info.get("rows") is not None else name
                for name, info in manifest["inputs"].items()
            ),
            labels["segkit"]: f"{__version__} ({(manifest['git_commit'] or 'no git')[:10]})",
            labels["privacy"]: texts.text("report.masked"),
        }
        for number, step in enumerate(steps, start=1):
            if progress:
                print(f"[{number}/{len(steps)}] {pipeline.job} {date}: {step.name} ({step.notebook.name})", flush=True)
            record = {
                "name": step.name,
                "notebook": str(step.notebook),
                "parameters": step.parameters,
                "executed": f"{step.name}.ipynb",
                "report": f"{step.name}.html",
            }
            executed = work / f"{step.name}.ipynb"
            started = time.perf_counter()
            step_of = texts.text("report.step_of", number=number, total=len(steps), name=step.name)
            error = _run_step(pm, step, executed, work, members, {**header, labels["step"]: step_of}, progress)
            if error is not None:
                if isinstance(error, PrivacyError):
                    record.update(executed=None, report=None, removed=[f"{step.name}.ipynb", f"{step.name}.html"])
                record.update(
                    status="failed", seconds=round(time.perf_counter() - started, 2), error=_error_text(error, members)
                )
                manifest["steps"].append(record)
                running.done()
                failed = final.parent / f"{date}.failed"
                _keep_undelivered(failed, work)
                manifest.update(status="failed", failed_step=step.name, finished=_now(), outputs=_outputs(work))
                _write_manifest(work, manifest)
                _replace(work, failed)
                notebook = f"and {failed / executed.name}" if record["executed"] else "(notebook and report removed)"
                raise JobFailed(
                    f"{pipeline.job} {date}: step {step.name!r} failed: {record['error']}; "
                    f"see {failed / 'manifest.json'} {notebook}"
                )
            record.update(status="ok", seconds=round(time.perf_counter() - started, 2))
            manifest["steps"].append(record)
            if progress:
                print(f"      done in {record['seconds']:.1f} s", flush=True)
        manifest.update(status="ok", finished=_now())
        running.done()
        manifest["outputs"] = _outputs(work)
        _write_manifest(work, manifest)
        _replace(work, final)
        shutil.rmtree(final.parent / f"{date}.failed", ignore_errors=True)
        return PipelineRun(final, manifest)
    finally:
        running.done()


def _run_step(
    pm, step, executed: Path, work: Path, members: MemberData, header: dict[str, str], progress: bool
) -> Exception | None:
    """Execute one step and write its report; the failure, if any. The executed notebook (also of a failed
    step), the report and the step's charts (its HTML files) must pass ``check_private``: what does not is
    removed, never left on disk."""
    error: Exception | None = None
    page = None
    try:
        pm.execute_notebook(
            str(step.notebook),
            str(executed),
            parameters=step.parameters,
            cwd=str(work),
            progress_bar=progress,
            report_mode=False,
        )
        share_plotly(executed, work / step.name, work)
        page = notebook_html(executed, header, step.parameters.get("language"))
    except Exception as failure:  # noqa: BLE001 - any failure ends the job, with its reason in the manifest
        error = failure
    try:
        _check_charts(work, members)
        if executed.exists():
            check_private(notebook_text(executed), members, f"the executed notebook of step {step.name!r}")
        if page is not None:
            check_private(page, members, f"the report of step {step.name!r}")
            (work / f"{step.name}.html").write_text(page, encoding="utf-8")
    except PrivacyError as refused:
        executed.unlink(missing_ok=True)
        if error is None:
            return refused
        return PrivacyError(f"{refused} (and the step failed: {_error_text(error, members)})")
    return error


def _check_charts(work: Path, members: MemberData) -> None:
    """Every chart of the run so far (its HTML and SVG files, the earlier steps' reports among them) must pass
    ``check_private``: each that does not is removed, and the first refusal is raised with how many were
    removed."""
    refusals = []
    for chart in sorted(work.rglob("*")):
        if chart.suffix.lower() not in CHARTS or not chart.is_file():
            continue
        try:
            check_private(chart.read_text(encoding="utf-8", errors="replace"), members, str(chart.relative_to(work)))
        except PrivacyError as refused:
            chart.unlink()
            refusals.append(refused)
    if refusals:
        more = f" ({len(refusals)} charts removed)" if len(refusals) > 1 else ""
        raise PrivacyError(f"{refusals[0]}{more}")


def _outputs(work: Path) -> dict[str, dict[str, Any]]:
    """Every file of the run, by its path relative to the run folder (valid after the rename)."""
    return {
        str(path.relative_to(work)): _describe(path, rows=False, shown_as=path.relative_to(work))
        for path in sorted(work.rglob("*"))
        if path.is_file()
    }


def _refuse_after_undelivered_calls(job_folder: Path, date: str) -> None:
    """Refuse to run another date while a crashed attempt of one, or a failed one (``DATE.failed``, a step after
    the export failed), holds a call list that the ledger recorded, and that date has no good run: the ledger
    holds calls that no delivered file lists, and later days would be paced against them silently. Running that
    date again records the same list and delivers it."""
    from ..callcenter.export import RUN_MARKER, read_run_marker

    failed = [folder for folder in sorted(job_folder.glob("*.failed")) if FAILED.fullmatch(folder.name)]
    for folder in [*(f for f in _crashed_attempts(job_folder) if ".partial-" in f.name), *failed]:
        day = folder.name.lstrip(".")[:10]
        if day == date or (job_folder / day).is_dir():
            continue
        runs = [run for run, _, state in map(read_run_marker, sorted(folder.rglob(RUN_MARKER))) if state == "recorded"]
        if runs:
            raise ParameterError(
                f"the run of {day} stopped after the ledger recorded its call list(s) ({', '.join(map(repr, runs))}) "
                f"and before its files were delivered ({folder}): run {day} again first (it records the same "
                f"lists and delivers them), or take its runs out of the ledger (segkit ledger remove-run, each) "
                "and remove the folder, so that the calls in the ledger are the ones on the call sheets"
            )


def _keep_undelivered(failed: Path, work: Path) -> None:
    """Carry the marks of call lists the ledger recorded, and nobody was given, from an earlier failed attempt of
    the date (``failed``) into this failed one (``work``), which replaces it: a second failure must not lift the
    refusal of other dates (``_refuse_after_undelivered_calls``)."""
    from ..callcenter.export import RUN_MARKER, read_run_marker

    if not failed.is_dir():
        return
    for marker in failed.rglob(RUN_MARKER):
        kept = work / marker.relative_to(failed)
        if read_run_marker(marker)[2] == "recorded" and not kept.exists():
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(marker, kept)


def _remove_crashed_attempts(job_folder: Path) -> None:
    """Remove what crashed runs of this job left (``_crashed_attempts``)."""
    for folder in _crashed_attempts(job_folder):
        shutil.rmtree(folder, ignore_errors=True)


def _crashed_attempts(job_folder: Path) -> list[Path]:
    """``.DATE.partial-PID`` and ``.DATE.old-PID`` folders of this job whose run is gone (``_gone``; a run going on
    now keeps its folders)."""
    return [
        folder
        for folder in sorted(job_folder.iterdir())
        if (found := CRASHED.fullmatch(folder.name)) and folder.is_dir() and _gone(folder, int(found.group(1)))
    ]


class _Running:
    """The lock a run holds on the folder it builds (``RUNNING``, ``flock``), given up before the folder is put in
    place. A crashed run's folder is told by its lock being free, not by whether its PID is in use: after a
    reboot another process may have it, and the crash would be taken for a run going on."""

    def __init__(self, folder: Path):
        self.path = folder / RUNNING
        self.handle: int | None = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        if fcntl is not None:
            fcntl.flock(self.handle, fcntl.LOCK_EX)

    def done(self) -> None:
        if self.handle is not None:
            self.path.unlink(missing_ok=True)
            os.close(self.handle)
            self.handle = None


def _gone(folder: Path, pid: int) -> bool:
    """Whether the run that made ``folder`` is gone: its lock is free; a folder without one (an ``.old`` folder,
    or one made before the lock) by its process ``pid``."""
    lock = folder / RUNNING
    if fcntl is None or not lock.is_file():
        return not _alive(pid)
    try:
        handle = os.open(lock, os.O_RDWR)
    except OSError:  # given up just now
        return not _alive(pid)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(handle)
    return True


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (our own PID: a folder we have not made yet, so a dead run's)."""
    if pid == os.getpid():
        return False
    if os.name != "posix":  # no signal 0 to ask with: keep the folder
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _replace(source: Path, target: Path) -> None:
    """Put ``source`` at ``target``, replacing a previous folder there in two renames."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(source, target)
    shutil.rmtree(old, ignore_errors=True)


def _describe(path: Path, rows: bool = True, shown_as: Path | None = None) -> dict[str, Any]:
    """Path (``shown_as`` if given), size, SHA-256 and, with ``rows``, the number of rows of a file."""
    info: dict[str, Any] = {"path": str(shown_as or path)}
    if not path.is_file():
        return {**info, "exists": False}
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    info.update(bytes=path.stat().st_size, sha256=digest.hexdigest())
    if rows:
        info["rows"] = _rows(path)
    return info


def _rows(path: Path) -> int | None:
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if suffix in {".csv", ".txt", ".tsv"}:
        with open(path, "rb") as handle:
            lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
        return max(lines - 1, 0)
    return None


def _error_text(error: Exception, members: MemberData) -> str:
    """The error as the manifest and the console show it: one line, URLs masked, and withheld if it would
    show a member's name or phone."""
    name = getattr(error, "ename", type(error).__name__)
    value = " ".join(str(getattr(error, "evalue", error)).split())
    text = mask_urls_in(f"{name}: {value}".strip())
    if not isinstance(error, PrivacyError) and members.leaks(text):
        return f"{name}: (message withheld: it shows member data; the executed notebook has it)"
    return text


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )


def _git_commit() -> str | None:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "HEAD"],
                cwd=Path(__file__).resolve().parent,
                text=True,
                capture_output=True,
                check=True,
                timeout=10,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
