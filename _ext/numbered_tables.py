"""Sphinx extension: a glued table is numbered and referenced as a table ("Table 3"), not a figure.

The chapters paste their result tables with myst-nb's ``{glue:figure}`` (the only glue directive
that takes a caption and a label), which makes a figure node: Sphinx would number it "Fig. N"
among the figures. Every such paste whose label starts with ``tab-`` (the book's convention) is
turned into a ``glued_table``: a figure node that Sphinx enumerates as a ``table`` (its own
counter, ``numfig_format["table"]``, and ``{numref}`` text), rendered as the same HTML figure.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.writers.html5 import HTML5Translator

TABLE_LABEL_PREFIX = "tab-"


class glued_table(nodes.figure):  # noqa: N801 (docutils names node classes in lower case)
    """A pasted result table with a caption: a figure that is numbered as a table."""


class NumberGluedTables(SphinxTransform):
    default_priority = 500  # after parsing (the glue directives have run), before numbering

    def apply(self, **kwargs) -> None:
        for figure in list(self.document.findall(nodes.figure)):
            if type(figure) is nodes.figure and any(name.startswith(TABLE_LABEL_PREFIX)
                                                    for name in figure["names"]):
                figure.__class__ = glued_table  # in place: its ids, labels and children stay


def setup(app):
    app.add_enumerable_node(glued_table, "table",
                            html=(HTML5Translator.visit_figure, HTML5Translator.depart_figure))
    app.add_transform(NumberGluedTables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
