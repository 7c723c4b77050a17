"""Every chapter ``book/NAME.py`` (jupytext percent, the source of truth) and its generated
``book/NAME.ipynb`` hold the same cells: a notebook edited in Jupyter and never synced back, or a
chapter edited after its notebook was generated, fails here. Chapters without a notebook are skipped
(the notebooks are build outputs, made by ``make notebooks``)."""

from pathlib import Path

import jupytext
import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
CHAPTERS = sorted(BOOK.glob("*.py"))


def _cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def test_the_book_has_chapters():
    assert (BOOK / "intro.py") in CHAPTERS


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_chapter_and_notebook_in_sync(chapter):
    notebook_path = chapter.with_suffix(".ipynb")
    if not notebook_path.exists():
        pytest.skip(f"{notebook_path.name} not generated (make notebooks)")
    source = jupytext.read(chapter)
    notebook = jupytext.read(notebook_path)
    assert _cells(notebook) == _cells(source), (
        f"{notebook_path.name} is out of sync with {chapter.name}: run "
        f"'jupytext --to ipynb {chapter.relative_to(BOOK.parent)}' (or '--sync' after editing the notebook)")
    assert notebook.metadata.get("kernelspec", {}).get("name") == source.metadata["kernelspec"]["name"]


def test_sync_check_detects_a_difference(tmp_path):
    chapter = tmp_path / "chapter.py"
    chapter.write_text((BOOK / "intro.py").read_text())
    jupytext.write(jupytext.read(chapter), tmp_path / "chapter.ipynb")
    assert _cells(jupytext.read(tmp_path / "chapter.ipynb")) == _cells(jupytext.read(chapter))
    chapter.write_text(chapter.read_text() + "\n# %%\nprint('a new cell')\n")
    assert _cells(jupytext.read(tmp_path / "chapter.ipynb")) != _cells(jupytext.read(chapter))
