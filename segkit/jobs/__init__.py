"""Jobs: what notebooks and scheduled runs share: the notebooks' parameters and their checks, pipelines, the
runner, reports."""

from .demo import demo_inputs
from .parameters import NOTEBOOKS, NotebookSpec, Parameter, ParameterError, checked_parameters, notebook_spec
from .pipeline import Pipeline, Step, check_parameters, notebook_parameters
from .report import PrivacyError
from .runner import JobFailed, PipelineRun, run_pipeline

__all__ = [
    "NOTEBOOKS",
    "JobFailed",
    "NotebookSpec",
    "Parameter",
    "ParameterError",
    "Pipeline",
    "PipelineRun",
    "PrivacyError",
    "Step",
    "check_parameters",
    "checked_parameters",
    "demo_inputs",
    "notebook_parameters",
    "notebook_spec",
    "run_pipeline",
]
