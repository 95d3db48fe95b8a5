"""Turning a Python function into a JSON schema and a validator for its arguments."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_origin

import docstring_parser
import pydantic
import pydantic_core

from agentkit._context import RunContext
from agentkit.exceptions import UserError

__all__ = ("DocstringFormat", "FunctionSchema", "build_function_schema", "takes_run_context")

DocstringFormat = typing.Literal["auto", "google", "numpy", "sphinx"]

_DOCSTRING_STYLES = {
    "auto": docstring_parser.DocstringStyle.AUTO,
    "google": docstring_parser.DocstringStyle.GOOGLE,
    "numpy": docstring_parser.DocstringStyle.NUMPYDOC,
    "sphinx": docstring_parser.DocstringStyle.REST,
}


@dataclass(frozen=True)
class FunctionSchema:
    """What is needed to describe a function to a model and to call it with validated arguments."""

    description: str
    json_schema: dict[str, Any]
    validator: pydantic_core.SchemaValidator
    field_names: tuple[str, ...]
    takes_ctx: bool
    is_async: bool

    def validate(self, args: str | dict[str, Any]) -> dict[str, Any]:
        """Validate arguments (JSON text or a dict) into keyword arguments for the function."""
        if isinstance(args, str):
            model = self.validator.validate_json(args or "{}")
        else:
            model = self.validator.validate_python(args)
        values: dict[str, Any] = model.__dict__
        return {name: values[name] for name in self.field_names}


def _is_run_context(annotation: Any) -> bool:
    return annotation is RunContext or get_origin(annotation) is RunContext


def takes_run_context(function: Callable[..., Any]) -> bool:
    """Whether the first parameter of `function` is annotated as a `RunContext`."""
    parameters = list(inspect.signature(function).parameters.values())
    if not parameters:
        return False
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        annotation = parameters[0].annotation
        return isinstance(annotation, str) and annotation.startswith("RunContext")
    return _is_run_context(hints.get(parameters[0].name))


def strip_titles(schema: dict[str, Any]) -> dict[str, Any]:
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    for definition in schema.get("$defs", {}).values():
        if isinstance(definition, dict):
            strip_titles(definition)
    return schema


def build_function_schema(
    function: Callable[..., Any],
    *,
    tool_name: str,
    takes_ctx: bool,
    docstring_format: DocstringFormat = "auto",
    require_parameter_descriptions: bool = False,
) -> FunctionSchema:
    """Describe `function` for a model; errors name `tool_name` and the offending parameter."""
    signature = inspect.signature(function)
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except NameError as error:
        culprits = [
            name
            for name, param in signature.parameters.items()
            if isinstance(param.annotation, str) and error.name is not None and error.name in param.annotation
        ]
        where = f" parameter {culprits[0]!r}:" if culprits else ""
        raise UserError(
            f"Tool {tool_name!r}:{where} cannot resolve a type annotation ({error}); "
            "define the type at module level or import it where the function is defined"
        ) from error

    docstring = docstring_parser.parse(inspect.getdoc(function) or "", _DOCSTRING_STYLES[docstring_format])
    param_docs = {param.arg_name: param.description for param in docstring.params if param.description}
    description = "\n\n".join(part for part in (docstring.short_description, docstring.long_description) if part)

    parameters = list(signature.parameters.values())
    if takes_ctx:
        if not parameters or not _is_run_context(hints.get(parameters[0].name, parameters[0].annotation)):
            raise UserError(
                f"Tool {tool_name!r} takes a RunContext, so its first parameter must be annotated "
                "`ctx: RunContext[...]`; use `tool_plain` for tools that do not need the context"
            )
        parameters = parameters[1:]

    fields: dict[str, Any] = {}
    for param in parameters:
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise UserError(
                f"Tool {tool_name!r}: parameter {param.name!r} is *args or **kwargs, which cannot be "
                "described to a model; give every argument its own named parameter"
            )
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise UserError(
                f"Tool {tool_name!r}: parameter {param.name!r} is positional-only; tools are called "
                "with keyword arguments"
            )
        annotation = hints.get(param.name, Any)
        if _is_run_context(annotation):
            raise UserError(
                f"Tool {tool_name!r}: parameter {param.name!r} is a RunContext but not the first "
                "parameter; RunContext must come first, and only in tools registered with `tool`"
            )
        param_description = param_docs.get(param.name)
        if require_parameter_descriptions and not param_description:
            raise UserError(f"Tool {tool_name!r}: parameter {param.name!r} has no description in the docstring")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, pydantic.Field(default, description=param_description))

    try:
        model = pydantic.create_model(
            f"{tool_name}_arguments", __config__=pydantic.ConfigDict(extra="forbid"), **fields
        )
        json_schema = strip_titles(model.model_json_schema())
    except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, TypeError) as error:
        bad = _find_unsupported_parameter(fields)
        where = f" parameter {bad!r}" if bad else ""
        raise UserError(
            f"Tool {tool_name!r}:{where} has a type that cannot be turned into a JSON schema: {error}"
        ) from error

    json_schema.setdefault("properties", {})
    return FunctionSchema(
        description=description,
        json_schema=json_schema,
        validator=model.__pydantic_validator__,
        field_names=tuple(fields),
        takes_ctx=takes_ctx,
        is_async=inspect.iscoroutinefunction(function),
    )


def _find_unsupported_parameter(fields: dict[str, Any]) -> str | None:
    for name, (annotation, _) in fields.items():
        try:
            pydantic.TypeAdapter(annotation).json_schema()
        except Exception:
            return name
    return None
