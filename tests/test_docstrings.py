"""The reference docstrings: every public workflow, helper and estimator has its numpydoc sections, and every
example in segkit's docstrings runs.

The examples run here (``make test``) docstring by docstring; one file's alone with
``pytest --doctest-modules segkit/clv/models.py -p no:cacheprovider -q`` (the option flags are in
pyproject.toml). The sections are read with numpydoc, which renders them in the API reference.
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import inspect
import pkgutil
import re

import pytest
from numpydoc.docscrape import ClassDoc, FunctionDoc
from numpydoc.validate import validate

import segkit
from segkit.estimator import Estimator

# Workflows whose files another change is rewriting, by name, with the reason: the tests below skip them until
# that change lands and they get their sections. None now: keep it empty.
PENDING: dict[str, str] = {}
# numpydoc checks that must pass: a docstring at all (GL08), every parameter documented (PR01) and none that
# does not exist (PR02), each with a description (PR07), a Returns section (RT01) and an Examples section (EX01)
FUNCTION_CHECKS = {"GL08", "PR01", "PR02", "PR07", "RT01", "EX01"}
CLASS_CHECKS = {"GL08", "PR01", "PR02", "PR07", "EX01"}
METHOD_CHECKS = {"GL08", "PR01", "PR02", "PR07", "RT01"}
# numpydoc takes a function's first parameter named ``cls`` for a classmethod's and leaves it out; it is not
KNOWN = {("segkit.settings.resolve_settings", "PR02"): "Unknown parameters {'cls'}"}
# estimators that are bases of others: they document their parameters and attributes, their subclasses the examples
BASES = {"MaximumLikelihoodModel"}
OPTION_FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _modules() -> dict[str, object]:
    """Every module of segkit, imported; one that cannot be imported maps to its error."""
    modules: dict[str, object] = {}
    for info in pkgutil.walk_packages(segkit.__path__, "segkit."):
        try:
            modules[info.name] = importlib.import_module(info.name)
        except Exception as error:  # noqa: BLE001 - reported by the test of that module, not the whole file
            modules[info.name] = error
    return modules


MODULES = _modules()


def _doctests() -> list:
    cases = []
    finder = doctest.DocTestFinder()
    for name, module in MODULES.items():
        if isinstance(module, Exception):
            cases.append(pytest.param(name, module, id=name))
            continue
        cases += [pytest.param(name, test, id=test.name) for test in finder.find(module) if test.examples]
    return cases


@pytest.mark.parametrize(("module", "test"), _doctests())
def test_the_example_runs(module, test):
    if isinstance(test, Exception):
        pytest.fail(f"{module} cannot be imported: {test!r}")
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=OPTION_FLAGS)
    result = runner.run(test, out=report.append, clear_globs=True)
    assert result.failed == 0, "".join(report)


def test_every_workflow_helper_and_estimator_has_an_example_that_runs():
    finder = doctest.DocTestFinder()
    documented = {
        test.name.rsplit(".", 1)[-1]
        for module in MODULES.values()
        if not isinstance(module, Exception)
        for test in finder.find(module)
        if test.examples
    }
    wanted = {*segkit.WORKFLOWS, *segkit.HELPERS, *(cls.__name__ for cls in _estimators())} - set(PENDING) - BASES
    assert not sorted(wanted - documented), "no example (or one that doctest does not find)"


def _estimators() -> list[type]:
    """Every estimator class of segkit (all modules are imported above), the bases included."""
    found, todo = [], list(Estimator.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("segkit.") and not cls.__name__.startswith("_"):
            found.append(cls)
        todo += cls.__subclasses__()
    return sorted(set(found), key=lambda cls: cls.__name__)


def _name(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _problems(name: str, checks: set[str]) -> list[str]:
    return [
        f"{code}: {message}"
        for code, message in validate(name)["errors"]
        if code in checks and KNOWN.get((name, code)) != message
    ]


def _public(name: str):
    if name in PENDING:
        pytest.skip(PENDING[name])
    return getattr(segkit, name)


def _attribute_names(doc) -> set[str]:
    """The names of a docstring's Attributes section (``a, b : float`` documents both)."""
    return {part.strip() for item in doc["Attributes"] for part in item.name.split(",")}


@pytest.mark.parametrize("name", [*segkit.WORKFLOWS, *segkit.HELPERS])
def test_every_public_workflow_and_helper_has_its_sections(name):
    obj = _public(name)
    if inspect.isclass(obj):
        assert not _problems(_name(obj), {"GL08", "EX01"})
        if dataclasses.is_dataclass(obj):
            fields = {field.name for field in dataclasses.fields(obj)}
            assert not sorted(fields - _attribute_names(ClassDoc(obj))), "fields without an entry in Attributes"
        return
    assert not _problems(_name(obj), FUNCTION_CHECKS)
    doc = FunctionDoc(obj)
    for section in ("Parameters", "Returns", "Raises", "Examples"):
        assert doc[section], f"{name}: no {section} section"


def _result_classes() -> list:
    """The classes the public workflows and helpers return (dataclasses of segkit), by workflow."""
    cases = []
    for name in [*segkit.WORKFLOWS, *segkit.HELPERS]:
        obj = getattr(segkit, name)
        if inspect.isclass(obj) or name in PENDING:
            continue
        annotation = inspect.signature(obj).return_annotation
        returned = obj.__globals__.get(annotation) if isinstance(annotation, str) else annotation
        if inspect.isclass(returned) and dataclasses.is_dataclass(returned):
            cases.append(pytest.param(returned, id=f"{name} -> {returned.__name__}"))
    return cases


@pytest.mark.parametrize("cls", _result_classes())
def test_the_results_of_the_workflows_document_their_fields(cls):
    doc = ClassDoc(cls)
    fields = {field.name for field in dataclasses.fields(cls) if not field.name.startswith("_")}  # public ones
    missing = sorted(fields - _attribute_names(doc))
    assert not missing, f"{cls.__name__}: fields without an entry in Attributes: {missing}"


def test_every_estimator_is_found():
    names = {cls.__name__ for cls in _estimators()}
    assert names >= {
        "BetaGeoModel",
        "ParetoNBDModel",
        "GammaGammaModel",
        "MBGCNBDModel",
        "IntervalModel",
        "ChurnPropensity",
        "MaximumLikelihoodModel",
    }


def _fitted_attributes(cls: type) -> set[str]:
    """The learned attributes (``self.name_``) that ``cls`` and its segkit bases set or read."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith("segkit.") and klass is not Estimator:
            names |= set(re.findall(r"self\.([a-z][a-z0-9_]*_)\b", inspect.getsource(klass)))
    return names


@pytest.mark.parametrize("cls", _estimators(), ids=lambda cls: cls.__name__)
def test_every_estimator_documents_its_parameters_attributes_and_methods(cls):
    checks = CLASS_CHECKS - ({"EX01"} if cls.__name__ in BASES else set())
    assert not _problems(_name(cls), checks)
    doc = ClassDoc(cls)
    assert doc["Parameters"]
    missing = sorted(_fitted_attributes(cls) - _attribute_names(doc))
    assert not missing, f"{cls.__name__}: learned attributes without an entry in Attributes: {missing}"
    methods = [
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
        and member.__module__.startswith("segkit.")
        and member.__qualname__.split(".")[0] != "Estimator"
    ]
    assert "fit" in methods and "summary" in methods
    for method in methods:
        assert not _problems(f"{_name(cls)}.{method}", METHOD_CHECKS), method
        assert FunctionDoc(getattr(cls, method))["Returns"], method
