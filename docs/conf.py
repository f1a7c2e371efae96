"""Sphinx configuration for sklearn-seqattn.

Build with ``bash scripts/docs.sh`` (or ``sphinx-build -W --keep-going -b html docs
docs/_build/html``). The gallery in ``../examples`` is executed during the build.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import posixpath
import sys
from pathlib import Path
from typing import ClassVar

from sphinx.directives.other import TocTree

# One torch thread for the gallery: the examples' models are small, and on a shared or
# busy CPU several threads per process spin against each other (we measured a 5x slower
# fit with 2 threads than with 1 on a loaded 2-core machine). Set before torch is
# imported; SEQATTN_DOCS_THREADS overrides it.
os.environ.setdefault("OMP_NUM_THREADS", os.environ.get("SEQATTN_DOCS_THREADS", "1"))

import sklearn_seqattn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for sphinx_gallery's sort key below

# -- Project -----------------------------------------------------------------
project = "sklearn-seqattn"
author = "sklearn-seqattn developers"
copyright = "sklearn-seqattn developers"
release = sklearn_seqattn.__version__
version = ".".join(release.split(".")[:2])

# -- Extensions --------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# Markdown pages (docs/benchmarks.md) need myst-parser, listed in the docs extra. Without
# it, Markdown sources are left out rather than failing the build.
HAS_MYST = importlib.util.find_spec("myst_parser") is not None
if HAS_MYST:
    extensions.append("myst_parser")
    source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
    myst_enable_extensions = ["colon_fence", "dollarmath"]
    myst_heading_anchors = 3
else:
    source_suffix = {".rst": "restructuredtext"}

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.py"]
if not HAS_MYST:
    exclude_patterns.append("**.md")
# sphinx-gallery writes .py, .ipynb, .zip and .json copies next to its pages.
exclude_patterns += ["auto_examples/*.ipynb", "auto_examples/*.json", "auto_examples/*.zip"]
root_doc = "index"
default_role = "literal"
nitpicky = False

# -- autodoc / autosummary / numpydoc ------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"  # numpydoc sections already state the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- intersphinx -----------------------------------------------------------------
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "imblearn": ("https://imbalanced-learn.org/stable", None),
    "torch": ("https://docs.pytorch.org/docs/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
    "matplotlib": ("https://matplotlib.org/stable", None),
}
intersphinx_timeout = 5
# Offline builds (no network, e.g. in CI sandboxes) cannot download the inventories;
# links into those projects then render as plain text. Sphinx reports that as an untyped
# warning, which suppress_warnings cannot catch, so it is turned into an info message by
# a logging filter (see setup() below). Set SEQATTN_DOCS_STRICT_INTERSPHINX=1 to keep it
# a warning.
STRICT_INTERSPHINX = os.environ.get("SEQATTN_DOCS_STRICT_INTERSPHINX") == "1"
suppress_warnings = ["intersphinx.external"]

# -- sphinx-gallery ------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("sklearn_seqattn",),
    "backreferences_dir": "gen_modules/backreferences",
    "remove_config_comments": True,
    "min_reported_time": 1,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "show_memory": False,
}

# -- HTML ----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-seqattn {release}"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc", "sg_download_links", "sg_launcher_links"],
}
html_sidebars = {"index": [], "getting_started": []}
html_show_sourcelink = False
html_copy_source = False


class OptionalTocTree(TocTree):
    """A ``toctree`` whose entries are dropped when their document does not exist.

    Pages written separately (``user_guide/distributed``, ``benchmarks``) appear in the
    navigation once they are in the source tree, without a warning before that.
    """

    option_spec: ClassVar[dict] = dict(TocTree.option_spec)

    def run(self):
        env = self.state.document.settings.env

        def exists(line: str) -> bool:
            return not line.strip() or _doc_name(line, env.docname) in env.found_docs

        keep = [i for i, line in enumerate(self.content) if exists(line)]
        self.content = type(self.content)(
            [self.content[i] for i in keep], items=[self.content.items[i] for i in keep]
        )
        return super().run()


def _doc_name(entry: str, current: str) -> str:
    """The document name a toctree entry of document ``current`` points to."""
    entry = entry.strip()
    if entry.endswith(">") and "<" in entry:  # "Title <docname>"
        entry = entry[entry.rindex("<") + 1 : -1]
    if entry.startswith("/"):
        return entry[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(current), entry))


class _OfflineInventoryFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        offline = "failed to reach any of the inventories" in message
        if record.levelno >= logging.WARNING and offline:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = "intersphinx: inventories unreachable (offline?); " + message
        return True


def _inherited_label_as_text(app, env, node, contnode):
    """Render unresolved labels of inherited scikit-learn docstrings as plain text.

    Methods inherited from scikit-learn (``score``, ``set_output``, metadata routing)
    carry ``:ref:`` and ``:term:`` links into scikit-learn's own documentation. They
    resolve through intersphinx when its inventory is reachable; offline they would be
    warnings. Only the API pages (``generated/``) are concerned.
    """
    if (
        node.get("refdomain") == "std"
        and node.get("reftype") in ("ref", "term")
        and str(node.get("refdoc", "")).startswith("generated/")
    ):
        return contnode
    return None


def setup(app):
    app.add_directive("optional-toctree", OptionalTocTree)
    # After intersphinx (priority 500), so that online builds still link.
    app.connect("missing-reference", _inherited_label_as_text, priority=900)
    if not STRICT_INTERSPHINX:
        logging.getLogger("sphinx.sphinx.ext.intersphinx").addFilter(_OfflineInventoryFilter())
