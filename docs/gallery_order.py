"""Order of the gallery examples: a reading path rather than the alphabet."""

from __future__ import annotations

ORDER = [
    "plot_first_fit.py",
    "plot_variable_length.py",
    "plot_attention.py",
    "plot_stacking_attention.py",
    "plot_seed_scenario.py",
    "plot_scaling_and_resampling.py",
    "plot_model_selection.py",
    "plot_threshold_tuning.py",
    "plot_plateau_capacity.py",
    "plot_plateau_lr_schedule.py",
    "plot_plateau_feature_scaling.py",
    "plot_plateau_class_weight_vs_resampling.py",
    "plot_plateau_grouped_cv.py",
    "plot_plateau_ensemble.py",
]


class ExampleOrder:
    """sphinx-gallery sort key: files in ``ORDER`` first, in that order, then the rest."""

    def __init__(self, src_dir: str):
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        try:
            return ORDER.index(filename), filename
        except ValueError:
            return len(ORDER), filename

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
