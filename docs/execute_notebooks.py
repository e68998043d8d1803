"""Make sure every notebook has an executed copy for the gallery: ``build/notebooks/<name>.ipynb``.

``make test`` leaves one for each notebook (tests/jobs/test_notebooks.py runs every notebook once, on a small world,
and keeps the executed copy); ``make docs`` calls this script first, which executes with papermill, on its
default parameters (its demo), any notebook whose copy is missing or older than the notebook, so that the site
also builds on its own from a fresh clone. Two parameters are set: ``language: en`` (the site is in English) and
``output_dir`` (``build/notebooks/outputs/<name>``, so that nothing lands in ``outputs/``).

A notebook that refuses its defaults for want of reference data (``customer_value`` without the CDNOW sample in
``../shared/data`` or ``$SEGKIT_SHARED_DATA``) gets a copy without outputs and a note saying why; any other
failure stops the build.

    .venv/bin/python docs/execute_notebooks.py [--force] [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
EXECUTED = Path(os.environ.get("SEGKIT_EXECUTED_NOTEBOOKS", REPO / "build" / "notebooks"))
NOT_EXECUTED = "not-executed"  # the tag of the note a copy without outputs carries


def stale(notebook: Path, executed: Path) -> bool:
    """No copy, a copy older than the notebook, or one that could not be executed last time."""
    if not executed.is_file() or executed.stat().st_mtime < notebook.stat().st_mtime:
        return True
    return executed.stat().st_size < 1_000_000 and f'"{NOT_EXECUTED}"' in executed.read_text(encoding="utf-8")


def execute(notebook: Path, executed: Path) -> str:
    """Run ``notebook`` on its defaults into ``executed``; returns what happened, in a few words."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    executed.parent.mkdir(parents=True, exist_ok=True)
    partial = executed.with_name(f".{executed.stem}.{os.getpid()}.ipynb")
    started = time.monotonic()
    try:
        pm.execute_notebook(
            str(notebook),
            str(partial),
            cwd=str(NOTEBOOKS),
            progress_bar=False,
            parameters={
                "language": "en",
                "output_dir": os.path.relpath(EXECUTED / "outputs" / notebook.stem, NOTEBOOKS),
            },
        )
    except PapermillExecutionError as error:
        partial.unlink(missing_ok=True)
        if error.ename != "ParameterError":
            raise
        blank = nbformat.read(notebook, as_version=4)
        note = nbformat.v4.new_markdown_cell(
            f"```{{note}}\nThis notebook was not executed when these pages were built: {error.evalue}\n```"
        )
        note.metadata["tags"] = [NOT_EXECUTED]
        blank.cells.insert(1, note)
        nbformat.write(blank, partial)
        partial.replace(executed)
        return f"not executed ({error.evalue})"
    partial.replace(executed)
    return f"executed in {time.monotonic() - started:.0f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to check (default: all of notebooks/*.ipynb)")
    parser.add_argument("--force", action="store_true", help="execute even when the copy is up to date")
    args = parser.parse_args(argv)
    notebooks = [NOTEBOOKS / f"{name}.ipynb" for name in args.names] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for notebook in notebooks:
        executed = EXECUTED / notebook.name
        if args.force or stale(notebook, executed):
            print(f"{notebook.relative_to(REPO)}: {execute(notebook, executed)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
