"""Sphinx extension: each page loads each script once.

With jupyter-book 1.0.4 on Sphinx 7.4, the inline configuration scripts of sphinx-thebe and
sphinx-togglebutton reach every page twice (once registered with ``filename=None``, once with
``filename=""``, which Sphinx does not recognise as equal); the second ``const THEBE_JS_URL``
declaration is a SyntaxError in the browser console (found by ``tests/browser``).
"""

from __future__ import annotations


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (str(getattr(script, "filename", script) or ""),
               tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _unique_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
