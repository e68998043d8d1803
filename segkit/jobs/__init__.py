"""Jobs: what notebooks and scheduled runs share (parameter checks first)."""
from .checks import (ParameterError, check_choice, check_date, check_file, check_output_dir, check_positive,
                     check_probability)
from .demo import demo_inputs
from .pipeline import Pipeline, Step, check_parameters, notebook_parameters
from .report import PrivacyError
from .runner import JobFailed, run_pipeline

__all__ = ["ParameterError", "check_choice", "check_date", "check_file", "check_output_dir", "check_positive",
           "check_probability", "demo_inputs", "JobFailed", "Pipeline", "PrivacyError", "Step", "check_parameters",
           "notebook_parameters", "run_pipeline"]
