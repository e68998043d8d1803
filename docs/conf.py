"""Sphinx configuration of segkit's documentation (``make docs`` -> docs/_build/html/index.html).

Sphinx, because the reference is generated from the docstrings (autodoc + autosummary) and read with numpydoc,
the format the scientific Python packages segkit builds on (pandas, scikit-learn, lifelines) use; MyST-NB renders
the Markdown pages and the executed notebooks of the gallery without executing anything (the notebooks run once,
in ``make test`` or, when a copy is missing, in ``docs/execute_notebooks.py``).

Theme: pydata-sphinx-theme. It is the theme of numpy, pandas and scikit-learn, whose documentation segkit's
readers already know; it is kept up by the same community; its pages are wide enough for the notebooks' tables
and plotly figures (furo's narrow column would scroll most of them); and it ships its fonts, icons and scripts in
the package, so the site works offline, opened from disk. Nothing is fetched while building: no intersphinx, no
remote images; a gallery page loads plotly.js from the site (``gallery/plotly.min.js``).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))

import segkit  # noqa: E402

project = "segkit"
author = "the segkit maintainers"
copyright = "segkit maintainers"
version = release = segkit.__version__

extensions = [
    "myst_nb",  # Markdown pages (MyST) and executed notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
]
exclude_patterns = ["_build", "_generated", "**.ipynb_checkpoints", "execute_notebooks.py", "screenshots.py"]
templates_path = ["_templates"]
nitpicky = True
# Types named by other packages: there is no intersphinx (the build is offline), so a reference to pandas, numpy
# or the standard library has no target; those are ignored, references into segkit are checked.
EXTERNAL_MODULES = (
    r"(pd|np|pa|ibis|pandas|numpy|pyarrow|sklearn|scipy|sqlalchemy|sa|plotly|go|nbformat|lifelines|"
    r"duckdb|pyspark|datetime|pathlib|typing|collections|os|re|enum|dataclasses|concurrent|"
    r"subprocess|argparse|numbers)(\..*)?"
)
EXTERNAL_NAMES = (
    r"(Path|Any|Callable|Iterable|Iterator|Sequence|Mapping|Literal|Self|T|TypeVar|ClassVar|Optional|"
    r"Union|DataFrame|Series|Index|Timestamp|Timedelta|ndarray|Table|Expr|Figure|Engine|Connection|"
    r"NotebookNode|BaseEstimator|ArrayLike|type|object|callable|iterable|optional|default|"
    r"path-like|file-like|array-like|mapping|sequence)"
)
BUILTINS = r"(str|int|float|bool|dict|list|tuple|set|frozenset|bytes|None|True|False)"
EXCEPTIONS = (
    r"(BaseException|Exception|ValueError|TypeError|KeyError|RuntimeError|FileNotFoundError|OSError|"
    r"UserWarning|Warning|NotFittedError|ConvergenceWarning)"
)
nitpick_ignore_regex = [
    (r"py:.*", EXTERNAL_MODULES),
    (r"py:.*", EXTERNAL_NAMES),
    (r"py:.*", BUILTINS),
    (r"py:.*", EXCEPTIONS),
    (r"py:.*", r"segkit\.settings\.T"),
]  # the TypeVar of resolve_settings

# -- MyST and MyST-NB -------------------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # the gallery shows notebooks executed by make test / execute_notebooks.py
nb_merge_streams = True

# -- autodoc, autosummary, numpydoc ------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- HTML ----------------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"segkit {release}"
html_static_path = ["_static"]
html_css_files = ["segkit.css"]
html_extra_path = ["_generated/extra"]  # gallery/plotly.min.js, shared by the gallery's pages
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": {
        "*": ["page-toc"],
        "guide/*": ["page-toc"],
        "api/**": ["page-toc"],
        "gallery/*": [],
    },  # the notebooks get the width
}
html_context = {"default_mode": "auto"}  # unset, the theme's script logs an error on a first visit (no stored mode)
html_sidebars = {"index": [], "architecture": [], "benchmarks": []}


# -- the gallery -----------------------------------------------------------------------------------------------------
EXECUTED = Path(os.environ.get("SEGKIT_EXECUTED_NOTEBOOKS", REPO / "build" / "notebooks"))
GALLERY = DOCS / "gallery"
SHARED_PLOTLY = DOCS / "_generated" / "extra" / "gallery"


def gallery_notebooks() -> None:
    """Copy each executed notebook (``build/notebooks/<name>.ipynb``) into ``docs/gallery/``, its embedded copy of
    plotly.js replaced by a reference to one ``gallery/plotly.min.js`` (``segkit.jobs.report.share_plotly``, as in
    a run folder), and without each figure's JSON. All are remade when any executed notebook is newer than its
    copy."""
    from segkit.jobs.report import PLOTLY_JS, share_plotly

    missing = [p.stem for p in sorted((REPO / "notebooks").glob("*.ipynb")) if not (EXECUTED / p.name).is_file()]
    if missing:
        raise RuntimeError(
            f"no executed copy of {', '.join(missing)} in {EXECUTED}: run `make docs` (it executes "
            "the missing ones: docs/execute_notebooks.py) or `make test`"
        )
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    if (
        all(
            (GALLERY / p.name).is_file() and (GALLERY / p.name).stat().st_mtime >= (EXECUTED / p.name).stat().st_mtime
            for p in notebooks
        )
        and (SHARED_PLOTLY / PLOTLY_JS).is_file()
    ):
        return
    SHARED_PLOTLY.mkdir(parents=True, exist_ok=True)
    (SHARED_PLOTLY / PLOTLY_JS).unlink(missing_ok=True)  # made again from the first notebook that embeds it
    for notebook in notebooks:
        partial = GALLERY / f".{notebook.stem}.partial.ipynb"
        shutil.copyfile(EXECUTED / notebook.name, partial)
        share_plotly(partial, GALLERY / ".none", SHARED_PLOTLY)
        without_figure_json(partial)
        partial.replace(GALLERY / notebook.name)


PLOTLY_MIME = "application/vnd.plotly.v1+json"


def without_figure_json(path: Path) -> None:
    """Leave out each figure's JSON (JupyterLab draws it; a page cannot, and MyST-NB would warn): every figure also
    has an HTML rendering in the same output (``segkit.plots.notebook_mode``), which the page shows."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for output in cell.outputs:
                output.get("data", {}).pop(PLOTLY_MIME, None)
            cell.outputs = [output for output in cell.outputs if "data" not in output or output["data"]]
    nbformat.write(notebook, path)


QUOTED_ANNOTATION = re.compile(r"(:\s*|->\s*)'([^']*)'")


def readable_signature(app, what, name, obj, options, signature, return_annotation):
    """A dataclass field with a default factory shows ``=<factory>`` in its signature, which Sphinx cannot parse
    (it then splits the annotations at their commas): show ``=...``. An annotation autodoc could not evaluate stays
    quoted (``'dict[str, Any]'``), which Sphinx would read as a string: unquote it."""
    readable = QUOTED_ANNOTATION.sub(r"\1\2", signature.replace("<factory>", "...")) if signature else signature
    if readable == signature:
        return None  # numpydoc's handler (mangle_signature) decides
    return readable, (return_annotation or "").strip("'")


def skip_member(app, what, name, obj, skip, options):
    """scikit-learn adds ``set_fit_request`` and the like to every estimator (metadata routing); their docstrings
    point into scikit-learn's own documentation. They are scikit-learn's, not segkit's: left out."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


LITERAL_THEN_LETTER = re.compile(r"(?<![`\w])``([^`\s](?:[^`]*?[^`\s])?)``(?=[A-Za-z0-9])")


def plural_literals(app, what, name, obj, options, lines):
    """``LedgerError``s: reStructuredText does not end an inline literal before a letter, so such a plural runs on to
    the end of the paragraph (a docutils warning). Written as ``LedgerError``\\ s, which reads the same."""
    lines[:] = [LITERAL_THEN_LETTER.sub(lambda m: f"``{m.group(1)}``\\ ", line) for line in lines]


def setup(app):
    gallery_notebooks()
    app.connect("autodoc-process-signature", readable_signature, priority=400)  # before numpydoc's
    app.connect("autodoc-skip-member", skip_member)
    app.connect("autodoc-process-docstring", plural_literals)
