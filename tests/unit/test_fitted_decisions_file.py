"""Which fitted decisions a library loads: a local file from an earlier version is passed over, not fatal."""

import json
import logging

import pytest

from paperbot.retrieval.questions import decisions
from paperbot.retrieval.questions.decisions import ModelsMissingError, expected_features, load_models, local_path

EMBEDDER = "local:all-MiniLM-L6-v2-onnx-int8"


def _shipped() -> dict:
    return json.loads((decisions.SHIPPED_DIR / decisions.file_name(EMBEDDER)).read_text())


def test_the_shipped_decisions_read_the_features_this_version_computes():
    models = decisions.DecisionModels.from_dict(_shipped())
    assert {name: tuple(m.features) for name, m in models.models.items()} == expected_features()


def test_a_local_fit_by_an_earlier_version_is_passed_over_for_the_shipped_one(tmp_path, caplog):
    old = _shipped()
    old["models"]["topic_member"]["features"] = old["models"]["topic_member"]["features"][:-1]  # one feature fewer
    path = local_path(tmp_path, EMBEDDER)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(old))
    with caplog.at_level(logging.WARNING):
        models = load_models(tmp_path, EMBEDDER)
    assert tuple(models.models["topic_member"].features) == expected_features()["topic_member"]
    assert "topic_member" in caplog.text and "paperbot eval --fit" in caplog.text


def test_a_current_local_fit_is_used(tmp_path):
    mine = _shipped()
    mine["report"] = {"fitted_at": "here"}
    path = local_path(tmp_path, EMBEDDER)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(mine))
    assert load_models(tmp_path, EMBEDDER).report == {"fitted_at": "here"}


def test_a_shipped_file_that_does_not_match_is_an_error_that_says_so(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    data = _shipped()
    data["models"]["reader"]["features"] = ["something", "else"]
    (shipped / decisions.file_name(EMBEDDER)).write_text(json.dumps(data))
    monkeypatch.setattr(decisions, "SHIPPED_DIR", shipped)
    with pytest.raises(ModelsMissingError, match="reader"):
        load_models(tmp_path / "data", EMBEDDER)
