"""Turning a Python function into a JSON schema and a validator for its arguments."""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, is_dataclass
from typing import TYPE_CHECKING, Any, get_origin

from typing_extensions import is_typeddict

from agentkit._context import RunContext
from agentkit.exceptions import UserError

if TYPE_CHECKING:
    # Only type names here: pydantic and docstring_parser are imported inside the functions that use
    # them, at the first tool, so `import agentkit` stays light (a bare `pydantic.` here fails mypy).
    from pydantic import TypeAdapter
    from pydantic.fields import FieldInfo
    from pydantic_core import SchemaValidator

__all__ = (
    "DocstringFormat",
    "FunctionSchema",
    "build_function_schema",
    "is_model_like",
    "strip_titles",
    "takes_run_context",
)

DocstringFormat = typing.Literal["auto", "google", "numpy", "sphinx"]

_DOCSTRING_STYLES = {"auto": "AUTO", "google": "GOOGLE", "numpy": "NUMPYDOC", "sphinx": "REST"}
"""docstring_parser's `DocstringStyle` member for each format."""
# A docstring that opens with a section header ("Args:") has no summary line; the parser
# would take the header for one, so a placeholder summary is put in front while parsing.
_LEADING_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params|Keyword Args|Returns|Raises)\s*:?\s*$")
_PLACEHOLDER = "\x00"


@dataclass(frozen=True)
class FunctionSchema:
    """What is needed to describe a function to a model and to call it with validated arguments.

    `single_arg_name` is set when the function's only parameter is a model-like type (pydantic
    model, dataclass, TypedDict): that type's schema is then the whole tool schema.
    """

    description: str
    json_schema: dict[str, Any]
    validator: SchemaValidator
    field_names: tuple[str, ...]
    takes_ctx: bool
    is_async: bool
    single_arg_name: str | None = None
    positional_fields: tuple[str, ...] = ()
    var_positional_field: str | None = None
    var_keyword_validator: TypeAdapter[dict[str, Any]] | None = None

    def validate(self, args: str | dict[str, Any]) -> dict[str, Any]:
        """Validate arguments (JSON text or a dict) into a name -> value mapping of parameters."""
        if isinstance(args, str):
            validated = self.validator.validate_json(args or "{}")
        else:
            validated = self.validator.validate_python(args)
        if self.single_arg_name is not None:
            return {self.single_arg_name: validated}
        values: dict[str, Any] = validated.__dict__
        arguments = {name: values[name] for name in self.field_names}
        extra = validated.__pydantic_extra__
        if self.var_keyword_validator is not None and extra:
            arguments.update(self.var_keyword_validator.validate_python(extra))
        return arguments

    def call_arguments(self, arguments: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Split validated arguments into positional and keyword arguments for the function."""
        keywords = dict(arguments)
        positional = [keywords.pop(name) for name in self.positional_fields]
        if self.var_positional_field is not None:
            positional.extend(keywords.pop(self.var_positional_field))
        return positional, keywords


def _is_run_context(annotation: Any) -> bool:
    return annotation is RunContext or get_origin(annotation) is RunContext


def is_model_like(annotation: Any) -> bool:
    """Whether `annotation` is a pydantic model, dataclass or TypedDict class (an object schema on its own)."""
    import pydantic

    return (
        isinstance(annotation, type)
        and not isinstance(annotation, types.GenericAlias)
        and (issubclass(annotation, pydantic.BaseModel) or is_dataclass(annotation) or is_typeddict(annotation))
    )


def takes_run_context(function: Callable[..., Any]) -> bool:
    """Whether the first parameter of `function` is annotated as a `RunContext`."""
    parameters = list(inspect.signature(function).parameters.values())
    if not parameters:
        return False
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # an unresolvable annotation elsewhere: judge the first one by its text
        annotation = parameters[0].annotation
        return isinstance(annotation, str) and annotation.startswith("RunContext")
    return _is_run_context(hints.get(parameters[0].name))


def strip_titles(schema: dict[str, Any]) -> dict[str, Any]:
    """Remove the titles pydantic adds (used for result-tool schemas)."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    for definition in schema.get("$defs", {}).values():
        if isinstance(definition, dict):
            strip_titles(definition)
    return schema


def _parse_docstring(function: Callable[..., Any], docstring_format: DocstringFormat) -> tuple[str, dict[str, str]]:
    text = inspect.getdoc(function) or ""
    if _is_summary_only(text):
        # Every style reads such a line as the summary alone; importing the parser (~4 ms) and
        # setting up its styles (~2 ms a call) is most of what describing a tool with it costs.
        return text, {}  # as the parser gives it: `getdoc` dropped leading space, trailing space stays
    lines = text.splitlines()
    leading_section = bool(lines) and _LEADING_SECTION.match(lines[0]) is not None
    if leading_section:
        # `getdoc` ignores the first line when dedenting, so the entries under a first-line
        # header lose their indentation: indent every line that is not itself a header.
        body = [line if _LEADING_SECTION.match(line) or not line.strip() else f"    {line}" for line in lines[1:]]
        text = "\n".join([_PLACEHOLDER, "", lines[0], *body])
    import docstring_parser

    docstring = docstring_parser.parse(text, docstring_parser.DocstringStyle[_DOCSTRING_STYLES[docstring_format]])
    params = {param.arg_name: param.description for param in docstring.params if param.description}
    summary = None if leading_section else docstring.short_description
    description = "\n\n".join(part for part in (summary, docstring.long_description) if part)
    return description, params


def _is_summary_only(docstring: str) -> bool:
    """Whether `docstring` is one line that no docstring style can read a section or field from.

    Sections and fields need a colon (`Args:`, `:param x:`, `x: the ...`) or a second line (a
    numpy underline), and a bare header word (`Returns`) is read as a section.
    """
    return docstring.isprintable() and ":" not in docstring and _LEADING_SECTION.match(docstring) is None


def _error(function: Callable[..., Any], details: list[str], tool_name: str | None = None) -> UserError:
    joined = "\n  ".join(details)
    qualname = getattr(function, "__qualname__", repr(function))
    where = qualname if tool_name in (None, getattr(function, "__name__", None)) else f"tool {tool_name!r} ({qualname})"
    return UserError(f"Error generating schema for {where}:\n  {joined}")


def _unsupported_type(parameter: str | None, annotation: Any, error: Exception) -> str:
    """Why a parameter's type cannot be offered to a model, and what to use instead (not pydantic's advice)."""
    import pydantic

    where = f"parameter {parameter!r} " if parameter else "a parameter "
    if isinstance(error, pydantic.PydanticSchemaGenerationError | TypeError):
        shown = getattr(annotation, "__qualname__", None) or repr(annotation)
        return (
            f"{where}has a type that cannot be turned into a JSON schema: {shown}. A model can only send "
            "JSON, so tool parameters need types pydantic can describe (str, int, float, bool, datetime, "
            "Literal, Enum, list, dict, a pydantic model, a dataclass or a TypedDict); take such a value "
            f"and build the {shown} inside the tool"
        )
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"{where}has a type that cannot be turned into a JSON schema ({first_line})"


def _resolve_hints(function: Callable[..., Any], signature: inspect.Signature, tool_name: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function, include_extras=True)
    except NameError as error:
        culprits = [
            name
            for name, param in signature.parameters.items()
            if isinstance(param.annotation, str) and error.name is not None and error.name in param.annotation
        ]
        where = f"parameter {culprits[0]!r}: " if culprits else ""
        raise _error(
            function,
            [
                f"{where}cannot resolve a type annotation ({error}); "
                "define the type at module level or import it where the function is defined"
            ],
            tool_name,
        ) from error


def _field(annotation: Any, default: Any, doc_description: str | None) -> tuple[Any, FieldInfo]:
    """A field whose description comes from an `Annotated[..., Field(description=...)]`, else the docstring."""
    import pydantic
    from pydantic.fields import FieldInfo

    declared = FieldInfo.from_annotation(annotation).description
    if declared is None and doc_description:
        return annotation, pydantic.Field(default, description=doc_description)
    return annotation, pydantic.Field(default)


def build_function_schema(
    function: Callable[..., Any],
    *,
    tool_name: str,
    takes_ctx: bool,
    docstring_format: DocstringFormat = "auto",
    require_parameter_descriptions: bool = False,
) -> FunctionSchema:
    """Describe `function` for a model; errors name the function and the offending parameter."""
    signature = inspect.signature(function)
    hints = _resolve_hints(function, signature, tool_name)
    description, param_docs = _parse_docstring(function, docstring_format)

    errors: list[str] = []
    fields: dict[str, Any] = {}
    model_like: dict[str, bool] = {}
    positional: list[str] = []
    positional_or_keyword: list[str] = []
    var_positional: str | None = None
    var_keyword: Any = None
    for index, param in enumerate(signature.parameters.values()):
        annotated = param.annotation is not inspect.Parameter.empty
        annotation = hints.get(param.name, Any) if annotated else Any
        if index == 0 and takes_ctx:
            if annotated and not _is_run_context(annotation):
                errors.append("First parameter of tools that take context must be annotated with RunContext[...]")
            continue
        if _is_run_context(annotation):
            errors.append(
                "RunContext annotations can only be used as the first argument"
                if takes_ctx
                else "RunContext annotations can only be used with tools that take context"
            )
            continue
        if require_parameter_descriptions and param.name not in param_docs:
            errors.append(f"Missing parameter descriptions for {param.name}")
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            var_keyword = annotation
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            annotation = list[annotation]  # type: ignore[valid-type]
            var_positional = param.name
        elif param.kind is inspect.Parameter.POSITIONAL_ONLY:
            positional.append(param.name)
        elif param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            positional_or_keyword.append(param.name)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = _field(annotation, default, param_docs.get(param.name))
        model_like[param.name] = is_model_like(annotation)

    if errors:
        raise _error(function, errors, tool_name)
    if var_positional is not None:  # `f(a, *rest)`: `a` must go positionally for `rest` to follow it
        positional.extend(positional_or_keyword)

    import pydantic

    is_async = inspect.iscoroutinefunction(function)
    if len(fields) == 1 and var_keyword is None and next(iter(model_like.values())):
        return _single_model_schema(
            function, next(iter(fields)), fields, description, takes_ctx, is_async, tool_name=tool_name
        )

    try:
        model = pydantic.create_model(
            f"{tool_name}_arguments",
            __config__=pydantic.ConfigDict(extra="allow" if var_keyword is not None else "forbid"),
            **fields,
        )
        json_schema = model.model_json_schema()
        keyword_validator = pydantic.TypeAdapter(dict[str, var_keyword]) if var_keyword is not None else None
    except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, TypeError) as error:
        bad = _find_unsupported_parameter(fields)
        annotation = fields[bad][0] if bad is not None else None
        raise _error(function, [_unsupported_type(bad, annotation, error)], tool_name) from None

    json_schema.pop("title", None)
    for prop in json_schema.get("properties", {}).values():
        prop.pop("default", None)  # the function's own default applies; the model is not told it
    json_schema.setdefault("properties", {})
    # Key order as the reference release prints it: additionalProperties last.
    json_schema.pop("additionalProperties", None)
    json_schema["additionalProperties"] = var_keyword is not None
    return FunctionSchema(
        description=description,
        json_schema=json_schema,
        validator=model.__pydantic_validator__,
        field_names=tuple(fields),
        takes_ctx=takes_ctx,
        is_async=is_async,
        positional_fields=tuple(positional),
        var_positional_field=var_positional,
        var_keyword_validator=keyword_validator,
    )


def _single_model_schema(
    function: Callable[..., Any],
    name: str,
    fields: dict[str, Any],
    description: str,
    takes_ctx: bool,
    is_async: bool,
    *,
    tool_name: str,
) -> FunctionSchema:
    """The schema of a function whose one parameter is a model: that model's own schema."""
    import pydantic

    annotation, field_info = fields[name]
    try:
        adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(
            typing.Annotated[annotation, field_info] if field_info.description else annotation
        )
        json_schema = adapter.json_schema()
    except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, TypeError) as error:
        raise _error(function, [_unsupported_type(name, annotation, error)], tool_name) from None
    if "$ref" in json_schema:
        key = json_schema["$ref"].removeprefix("#/$defs/")
        definitions = json_schema.get("$defs", {})
        resolved = dict(definitions.get(key, {}))
        remaining = {k: v for k, v in definitions.items() if k != key}
        if remaining:
            resolved["$defs"] = remaining
        json_schema = resolved
    if json_schema.get("type") != "object":
        raise _error(
            function, [f"parameter {name!r}: the schema of a single model parameter must be an object"], tool_name
        )
    if not description:
        description = json_schema.pop("description", None) or ""
    return FunctionSchema(
        description=description,
        json_schema=json_schema,
        validator=adapter.validator,  # type: ignore[arg-type]
        field_names=(name,),
        takes_ctx=takes_ctx,
        is_async=is_async,
        single_arg_name=name,
    )


def _find_unsupported_parameter(fields: dict[str, Any]) -> str | None:
    import pydantic

    for name, (annotation, _) in fields.items():
        try:
            pydantic.TypeAdapter(annotation).json_schema()
        except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, TypeError):
            return name
    return None
