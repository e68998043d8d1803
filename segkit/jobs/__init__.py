"""Jobs: what notebooks and scheduled runs share (parameter checks first)."""
from .checks import (ParameterError, check_choice, check_date, check_file, check_output_dir, check_positive,
                     check_probability)
from .demo import demo_inputs

__all__ = ["ParameterError", "check_choice", "check_date", "check_file", "check_output_dir", "check_positive",
           "check_probability", "demo_inputs"]
