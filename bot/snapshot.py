"""A round keeps the question it asked, as JSON, so its question, reveal and scoring do not depend
on what the bank says later (the operator may have edited or removed it)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from bot.models import CodeSnippet, Difficulty, Question


def dump(question: Question) -> str:
    data: dict[str, Any] = {}
    for field in dataclasses.fields(question):
        value = getattr(question, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        data[field.name] = value
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def load(text: str) -> Question:
    """The question a round asked; raises ValueError when the text is not one."""
    try:
        data = json.loads(text)
        data["difficulty"] = Difficulty(data["difficulty"])
        data["choices"] = tuple(data["choices"])
        data["source"] = tuple(data.get("source", ()))
        if data.get("code") is not None:
            data["code"] = CodeSnippet(**data["code"])
        known = {field.name for field in dataclasses.fields(Question)}
        return Question(**{key: value for key, value in data.items() if key in known})
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a question snapshot: {exc}") from exc
