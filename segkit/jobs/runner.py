"""``segkit run``: execute a pipeline's notebooks into ``runs/<job>/<date>/`` with a manifest and HTML reports.

A run is built in a hidden folder beside its final place and renamed into
``runs/<job>/<date>`` only when every step has succeeded, so a date's folder
is always one whole, good run; re-running the date replaces it. A failing
step stops the job: its attempt is kept as ``runs/<job>/<date>.failed``
(the executed notebook shows the error, the manifest says which step and
why), the exit code is non-zero, and the previous good run is untouched.

Steps run with the run folder as their working directory; each writes to its
own ``output_dir`` (``<step>/``), so the paths recorded in the notebooks and
the manifest stay valid after the rename.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import __version__
from .pipeline import Pipeline
from .report import check_no_phones, notebook_html, phones_in


class JobFailed(RuntimeError):
    """A step of the job failed; the manifest of the failed attempt says which and why."""


def run_pipeline(pipeline: Pipeline, date: str, runs: str | Path = "runs", progress: bool = True) -> Path:
    """Run every step for ``date``; returns the run folder. Raises ``JobFailed`` (after writing the failed
    attempt's manifest) when a step fails, ``ParameterError`` before anything runs when parameters are wrong."""
    import papermill as pm

    runs = Path(runs).resolve()
    steps = pipeline.resolve(date, runs)
    final = runs / pipeline.job / date
    work = final.parent / f".{date}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    manifest: dict[str, Any] = {
        "job": pipeline.job, "date": date, "pipeline": str(pipeline.path), "status": "running",
        "segkit_version": __version__, "git_commit": _git_commit(), "python": sys.version.split()[0],
        "started": _now(), "inputs": {name: _describe(path) for name, path in pipeline.inputs.items()},
        "steps": [],
    }
    phones = phones_in(pipeline.inputs.values())
    header = {"job": pipeline.job, "date": date,
              "inputs": "; ".join(f"{name}: {info['rows']:,} rows" if info.get("rows") is not None else name
                                  for name, info in manifest["inputs"].items()),
              "segkit": f"{__version__} ({(manifest['git_commit'] or 'no git')[:10]})",
              "privacy": "member names and phone numbers are masked"}
    for number, step in enumerate(steps, start=1):
        if progress:
            print(f"[{number}/{len(steps)}] {pipeline.job} {date}: {step.name} ({step.notebook.name})", flush=True)
        record = {"name": step.name, "notebook": str(step.notebook), "parameters": step.parameters,
                  "executed": f"{step.name}.ipynb", "report": f"{step.name}.html"}
        started = time.perf_counter()
        try:
            pm.execute_notebook(str(step.notebook), str(work / f"{step.name}.ipynb"), parameters=step.parameters,
                                cwd=str(work), progress_bar=progress, report_mode=False)
            page = notebook_html(work / f"{step.name}.ipynb", {**header, "step": f"{number}/{len(steps)} {step.name}"})
            check_no_phones(page, phones, f"the report of step {step.name!r}")
            (work / f"{step.name}.html").write_text(page, encoding="utf-8")
        except Exception as error:  # noqa: BLE001 - any failure ends the job, with its reason in the manifest
            record.update(status="failed", seconds=round(time.perf_counter() - started, 2),
                          error=_error_text(error))
            manifest["steps"].append(record)
            manifest.update(status="failed", failed_step=step.name, finished=_now())
            failed = final.parent / f"{date}.failed"
            _write_manifest(work, manifest)
            _replace(work, failed)
            raise JobFailed(f"{pipeline.job} {date}: step {step.name!r} failed: {record['error']}; "
                            f"see {failed / 'manifest.json'} and {failed / (step.name + '.ipynb')}") from None
        record.update(status="ok", seconds=round(time.perf_counter() - started, 2))
        manifest["steps"].append(record)
        if progress:
            print(f"      done in {record['seconds']:.1f} s", flush=True)
    manifest.update(status="ok", finished=_now())
    manifest["outputs"] = {str(p.relative_to(work)): _describe(p, rows=False)
                           for p in sorted(work.rglob("*")) if p.is_file()}
    _write_manifest(work, manifest)
    _replace(work, final)
    shutil.rmtree(final.parent / f"{date}.failed", ignore_errors=True)
    return final


def _replace(source: Path, target: Path) -> None:
    """Put ``source`` at ``target``, replacing a previous folder there in two renames."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(source, target)
    shutil.rmtree(old, ignore_errors=True)


def _describe(path: Path, rows: bool = True) -> dict[str, Any]:
    info: dict[str, Any] = {"path": str(path)}
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


def _error_text(error: Exception) -> str:
    name = getattr(error, "ename", type(error).__name__)
    value = getattr(error, "evalue", str(error))
    return f"{name}: {value}".strip()


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n",
                                          encoding="utf-8")


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, text=True,
                              capture_output=True, check=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
