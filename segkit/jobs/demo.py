"""Demo inputs for notebooks run without data (nbmake, a first look in JupyterLab)."""
from __future__ import annotations

from pathlib import Path

from .checks import check_positive


def demo_inputs(world: str, members: int, as_of, folder: Path) -> tuple[Path, Path]:
    """Generate a small world into ``folder/demo_world`` and return its transactions and members paths."""
    from ..synth import generate

    paths = generate(world, check_positive("demo_members", members), seed=1, as_of=as_of).write(folder / "demo_world")
    return paths["transactions"], paths["members"]
