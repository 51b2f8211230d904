"""Render `.env.example` from the Settings model, so the file lists every setting.

    python -m config.env_example > .env.example
"""

from __future__ import annotations

from typing import get_args

from pydantic import AliasChoices, BaseModel, SecretStr
from pydantic.fields import FieldInfo

from .settings import Settings


def _env_name(prefix: str, name: str, field: FieldInfo) -> str:
    if isinstance(field.validation_alias, AliasChoices):
        return str(field.validation_alias.choices[0])
    return f"{prefix}{name}".upper()


def _is_secret(field: FieldInfo) -> bool:
    return field.annotation is SecretStr or SecretStr in get_args(field.annotation)


def _default_text(name: str, field: FieldInfo) -> str:
    if _is_secret(field):
        return ""
    if name in ("data_dir", "corpus_dir"):
        return ""  # machine-specific; the description says what unset means
    default = field.get_default(call_default_factory=True)
    if default is None:
        return ""
    if isinstance(default, list):
        return "[]" if not default else str(default)
    if isinstance(default, bool):
        return str(default).lower()
    return str(default)


def _lines(model: type[BaseModel], prefix: str) -> list[str]:
    lines: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            lines.append(f"\n# --- {name} ---")
            lines.extend(_lines(annotation, f"{prefix}{name}__"))
            continue
        lines.append(f"# {field.description}")
        lines.append(f"#{_env_name(prefix, name, field)}={_default_text(name, field)}")
    return lines


def render() -> str:
    header = [
        "# paperbot settings. Copy to .env and uncomment what you change.",
        "# Every line shows the default; nested sections use '__' (PAPERBOT_LLM__MODEL).",
    ]
    return "\n".join(header + _lines(Settings, "PAPERBOT_")) + "\n"


if __name__ == "__main__":
    print(render(), end="")
