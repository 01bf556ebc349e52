"""The Analogies page under AppTest: its default probe and an uploaded analogy file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from streamlit.delta_generator import DeltaGenerator
from streamlit.proto.Common_pb2 import FileURLs
from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "pages" / "3_Analogies.py"


@pytest.fixture()
def at(app_spaces: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The page on the 5,000-word GloVe space, as on a first visit (no widget state)."""
    monkeypatch.setenv("EXPLORER_SPACES", str(app_spaces))
    monkeypatch.setenv("EXPLORER_DEFAULT_SPACE", "words")
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(str(PAGE), default_timeout=300)
    app.session_state["space_folder"] = str(app_spaces / "words")
    return app


def _no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_first_visit_shows_the_default_probes_answer_without_a_click(at: AppTest) -> None:
    at.run()
    _no_errors(at)
    assert (at.selectbox(key="an_a").value, at.selectbox(key="an_b").value) == ("king", "man")
    assert at.selectbox(key="an_c").value == "woman"
    assert any("(king - man + woman)" in s.value for s in at.subheader)
    answers = next(d.value for d in at.dataframe if "answer" in d.value.columns)
    assert answers["answer"].iloc[0] == "queen"
    # A probe the user chose is kept: the default fills unset widgets only.
    at.selectbox(key="an_c").set_value("girl").run()
    _no_errors(at)
    assert any("(king - man + girl)" in s.value for s in at.subheader)


QUESTIONS = b""": family
man woman king queen
boy girl brother sister
: capitals
paris france rome italy
"""


def test_an_uploaded_file_goes_to_the_engine_as_is_and_leaves_no_temp_file(
    at: AppTest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    upload = UploadedFile(
        UploadedFileRec(file_id="q1", name="mine.txt", type="text/plain", data=QUESTIONS),
        FileURLs(file_id="q1", upload_url="", delete_url=""),
    )

    def file_uploader(self: DeltaGenerator, label: str, *args: Any, **kwargs: Any) -> Any:
        # AppTest cannot drive st.file_uploader: hand the page an upload directly.
        return upload if kwargs.get("key") == "an_file" else None

    monkeypatch.setattr(DeltaGenerator, "file_uploader", file_uploader)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    at.run()
    at.button(key="an_run").click().run()
    _no_errors(at)
    result = at.session_state["an_eval"]
    assert result["questions"] == 3  # the uploaded file's, not Google's 19,544
    assert set(result["sections"]) == {"family", "capitals"}
    assert any(m.label == "Accuracy" for m in at.metric)
    assert list(scratch.iterdir()) == []  # nothing written to the temp folder
